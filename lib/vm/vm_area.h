// A process's user virtual memory areas (Linux's VMAs): what mmap, munmap, mprotect and brk
// change and what demand paging consults. Areas live in an intrusive AVL tree whose nodes come
// from an injected NodeAllocator, so the map never touches a hidden heap.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lib/base/result.h"
#include "lib/vm/area_tree.h"
#include "lib/vm/page.h"

namespace lib::vm {

// Linux PROT_* bits.
inline constexpr int kProtRead = 1;
inline constexpr int kProtWrite = 2;
inline constexpr int kProtExec = 4;
inline constexpr int kProtMask = kProtRead | kProtWrite | kProtExec;

// Linux's TASK_SIZE on x86-64 with 4-level paging: the top user page is never mapped.
inline constexpr uint64_t kDefaultUserEnd = (uint64_t(1) << 47) - kPageSize;
// Linux's default vm.max_map_count.
inline constexpr size_t kDefaultMaxAreas = 65530;

enum class VmKind : uint8_t {
    Anonymous,  // mmap(MAP_ANONYMOUS)
    Program,    // an ELF PT_LOAD segment
    Stack,
    Heap,  // brk
    File,  // mmap of a file, MAP_PRIVATE
    SharedFile,          // MAP_SHARED of a file opened for writing: writes reach the file
    SharedFileReadOnly,  // MAP_SHARED of a file opened read-only: can never become writable
    Vvar,                // the kernel's data page for the vDSO: can never become writable
    Vdso,                // the vDSO image (kernel frames, copied if ever made writable)
};

constexpr bool is_shared_file(VmKind kind) {
    return kind == VmKind::SharedFile || kind == VmKind::SharedFileReadOnly;
}
constexpr bool is_file(VmKind kind) { return kind == VmKind::File || is_shared_file(kind); }

// What makes two areas the same kind of memory: neighbours with equal attributes merge.
struct VmAttrs {
    int prot = 0;
    VmKind kind = VmKind::Anonymous;
    uint64_t tag = 0;  // opaque to the map; copied unchanged into both halves of a split

    bool operator==(const VmAttrs&) const = default;
};

struct VmArea : AreaNode {
    int prot = 0;
    VmKind kind = VmKind::Anonymous;
    uint64_t tag = 0;

    uint64_t length() const { return end - start; }
    VmAttrs attrs() const { return {prot, kind, tag}; }
};

// One page range an operation removed (map, unmap) or re-protected (protect), with the
// attributes it had before.
struct VmChange {
    uint64_t start;
    uint64_t end;
    int old_prot;
    VmKind kind;
    uint64_t tag;
};

// Where area nodes come from: a slab in the kernel, new/delete or a pool in host tests.
class NodeAllocator {
public:
    // A default-constructed VmArea, or nullptr when out of memory: the operation then fails
    // with NoMem and changes nothing.
    virtual VmArea* allocate() = 0;
    virtual void release(VmArea* area) = 0;

protected:
    ~NodeAllocator() = default;
};

struct VmLimits {
    uint64_t address_end = kDefaultUserEnd;  // first address no area may reach past
    size_t max_areas = kDefaultMaxAreas;     // operations that would exceed it fail with NoMem
};

enum class VmOp : uint8_t { Map, Unmap, Protect };

struct IgnoreChanges {
    void operator()(const VmChange&) const {}
};

class VmAreaMap {
public:
    explicit VmAreaMap(NodeAllocator& nodes, VmLimits limits = {});
    ~VmAreaMap() { clear(); }
    VmAreaMap(const VmAreaMap&) = delete;
    VmAreaMap& operator=(const VmAreaMap&) = delete;

    // The area containing addr, or nullptr.
    const VmArea* find(uint64_t addr) const { return as_area(m_tree.find(addr)); }
    // The first area ending above addr (the one containing addr or the next one up).
    const VmArea* first_ending_after(uint64_t addr) const {
        return as_area(m_tree.first_ending_after(addr));
    }
    // The area after `area` in address order, or nullptr.
    const VmArea* next(const VmArea* area) const { return as_area(AreaTree::next(area)); }
    // True when no area overlaps [start, start + length).
    bool is_free(uint64_t start, uint64_t length) const;
    size_t count() const { return m_tree.size(); }
    const VmLimits& limits() const { return m_limits; }

    // Every operation rounds length up to whole pages and, on success, calls fn(const
    // VmChange&) once per affected range in address order, before changing anything (the
    // map is still consistent and may be read, not modified, from fn). On error nothing
    // changes and fn is never called.
    //
    // mmap(MAP_FIXED): [start, start + length) becomes one area with these attributes,
    // replacing whatever was there; fn hears of every replaced range (its pages must go, even
    // where the attributes are unchanged). Inval: unaligned start, zero length, unknown prot
    // bits. NoMem: the range passes the address end, or the area limit or the allocator ran
    // out.
    template <typename Fn = IgnoreChanges>
    ErrorOr map(uint64_t start, uint64_t length, VmAttrs attrs, Fn&& fn = {}) {
        return apply(VmOp::Map, start, length, attrs, ChangeSink(fn));
    }
    // munmap: removes the range; holes in it are fine. Inval: unaligned start, zero length,
    // a range past the address end. NoMem: splitting an area would pass the limits.
    template <typename Fn = IgnoreChanges>
    ErrorOr unmap(uint64_t start, uint64_t length, Fn&& fn = {}) {
        return apply(VmOp::Unmap, start, length, {}, ChangeSink(fn));
    }
    // mprotect: fn hears of the ranges whose protection really changes. Inval: unaligned
    // start, unknown prot bits. NoMem: part of the range is unmapped, or the limits. A zero
    // length succeeds without doing anything.
    template <typename Fn = IgnoreChanges>
    ErrorOr protect(uint64_t start, uint64_t length, int prot, Fn&& fn = {}) {
        return apply(VmOp::Protect, start, length, {prot, VmKind::Anonymous, 0}, ChangeSink(fn));
    }

    // The start of a free range of length bytes inside [lo, hi) (hi capped at the address
    // end): the highest one when top_down (Linux's default mmap layout), else the lowest.
    // Inval for a zero length, NoMem when nothing fits.
    Result<uint64_t> find_free(uint64_t length, uint64_t lo, uint64_t hi,
                               bool top_down = true) const;

    // fork: replaces this map's areas with copies of other's. On failure (NoMem) this map is
    // left empty.
    ErrorOr copy_from(const VmAreaMap& other);
    // Releases every area without reporting them; tear down with for_each first.
    void clear();

    class Iterator {
    public:
        explicit Iterator(const AreaNode* node) : m_node(node) {}
        const VmArea& operator*() const { return *static_cast<const VmArea*>(m_node); }
        const VmArea* operator->() const { return static_cast<const VmArea*>(m_node); }
        Iterator& operator++() {
            m_node = AreaTree::next(m_node);
            return *this;
        }
        bool operator==(const Iterator&) const = default;

    private:
        const AreaNode* m_node;
    };
    // Address order, for /proc/self/maps and teardown.
    Iterator begin() const { return Iterator(m_tree.first()); }
    Iterator end() const { return Iterator(nullptr); }
    template <typename Fn>
    void for_each(Fn&& fn) const {
        for (const VmArea& area : *this) fn(area);
    }

    // Every structural and semantic invariant (tree shape, order, alignment, bounds, no
    // mergeable neighbours, the limit). O(n): for tests, fuzzers and debug checks.
    bool check_invariants() const;

private:
    // A non-owning reference to the caller's callback, so apply() need not be a template.
    class ChangeSink {
    public:
        template <typename Fn>
        explicit ChangeSink(Fn& fn)
            : m_object(const_cast<void*>(static_cast<const void*>(&fn))),
              m_call([](void* object, const VmChange& change) {
                  (*static_cast<Fn*>(object))(change);
              }) {}
        void operator()(const VmChange& change) const { m_call(m_object, change); }

    private:
        void* m_object;
        void (*m_call)(void*, const VmChange&);
    };

    static const VmArea* as_area(const AreaNode* node) { return static_cast<const VmArea*>(node); }

    ErrorOr apply(VmOp op, uint64_t start, uint64_t length, VmAttrs attrs, ChangeSink sink);
    ErrorOr validate(VmOp op, uint64_t start, uint64_t length, VmAttrs attrs, uint64_t& end) const;

    NodeAllocator& m_nodes;
    VmLimits m_limits;
    AreaTree m_tree;
};

}  // namespace lib::vm
