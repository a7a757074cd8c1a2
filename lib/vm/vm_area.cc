// map/unmap/protect as one edit: the areas around the range (the "window": those overlapping
// it plus the neighbours touching it) are replaced by the maximal runs of equal attributes the
// edit leaves. Runs are counted first, so the area limit is checked exactly and the at most
// two extra nodes are allocated before anything changes; then the window's nodes are
// rewritten in place in address order, with spare nodes inserted or leftovers erased.
#include "lib/vm/vm_area.h"

#include "lib/base/checked.h"

namespace lib::vm {

namespace {

uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }
uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

struct Segment {
    uint64_t start;
    uint64_t end;
    VmAttrs attrs;
};

struct Edit {
    VmOp op;
    uint64_t start;
    uint64_t end;
    VmAttrs attrs;
};

// The window of an edit: `slots` areas from `first` on, spanning [lo, hi) with the range.
struct Window {
    AreaNode* first = nullptr;
    size_t slots = 0;
    size_t runs = 0;    // areas the window holds after the edit
    bool hole = false;  // part of the edit's range is unmapped
    uint64_t lo = 0;
    uint64_t hi = 0;
};

// The most an edit can grow the area count by: map or protect in the middle of one area turns
// that one node into three. Every other shape needs fewer.
constexpr size_t kMaxSpares = 2;

Segment segment_of(const AreaNode* node) {
    const auto* area = static_cast<const VmArea*>(node);
    return {area->start, area->end, area->attrs()};
}

void assign(AreaNode* node, const Segment& segment) {
    auto* area = static_cast<VmArea*>(node);
    area->start = segment.start;
    area->end = segment.end;
    area->prot = segment.attrs.prot;
    area->kind = segment.attrs.kind;
    area->tag = segment.attrs.tag;
}

// Feeds, in address order, what the edit leaves of one window area. For map, the new area is
// fed just before the first piece above the range (`placed` remembers it was).
template <typename Sink>
void pieces_of(const Edit& edit, const Segment& area, bool& placed, Sink&& sink) {
    if (area.start < edit.start)
        sink(Segment{area.start, min_u64(area.end, edit.start), area.attrs});
    uint64_t inner_start = max_u64(area.start, edit.start);
    uint64_t inner_end = min_u64(area.end, edit.end);
    if (edit.op == VmOp::Protect && inner_start < inner_end) {
        VmAttrs attrs = area.attrs;
        attrs.prot = edit.attrs.prot;
        sink(Segment{inner_start, inner_end, attrs});
    }
    if (area.end > edit.end) {
        if (edit.op == VmOp::Map && !placed) {
            sink(Segment{edit.start, edit.end, edit.attrs});
            placed = true;
        }
        sink(Segment{max_u64(area.start, edit.end), area.end, area.attrs});
    }
}

// Joins touching segments with equal attributes and passes on each finished run.
template <typename Emit>
class RunBuilder {
public:
    explicit RunBuilder(Emit& emit) : m_emit(emit) {}
    void add(const Segment& segment) {
        if (m_open && m_run.end == segment.start && m_run.attrs == segment.attrs) {
            m_run.end = segment.end;
            return;
        }
        if (m_open) m_emit(m_run);
        m_run = segment;
        m_open = true;
    }
    void finish() {
        if (m_open) m_emit(m_run);
        m_open = false;
    }

private:
    Emit& m_emit;
    Segment m_run{};
    bool m_open = false;
};

// Read-only pass: the window and how many runs it turns into.
Window plan(const AreaTree& tree, const Edit& edit) {
    Window window;
    window.first = edit.start == 0 ? tree.first() : tree.first_ending_after(edit.start - 1);
    window.lo = edit.start;
    window.hi = edit.end;
    uint64_t covered = edit.start;
    bool placed = false;
    auto count = [&](const Segment&) { ++window.runs; };
    RunBuilder builder(count);
    for (AreaNode* node = window.first; node && node->start <= edit.end;
         node = AreaTree::next(node)) {
        Segment area = segment_of(node);
        ++window.slots;
        window.lo = min_u64(window.lo, area.start);
        window.hi = max_u64(window.hi, area.end);
        if (area.end > edit.start && area.start < edit.end) {
            if (area.start > covered) window.hole = true;
            covered = area.end;
        }
        pieces_of(edit, area, placed, [&](const Segment& piece) { builder.add(piece); });
    }
    if (covered < edit.end) window.hole = true;
    if (edit.op == VmOp::Map && !placed) builder.add({edit.start, edit.end, edit.attrs});
    builder.finish();
    return window;
}

template <typename Sink>
void report(const Edit& edit, const Window& window, const Sink& sink) {
    const AreaNode* node = window.first;
    for (size_t i = 0; i < window.slots; ++i, node = AreaTree::next(node)) {
        const auto* area = static_cast<const VmArea*>(node);
        uint64_t start = max_u64(area->start, edit.start), end = min_u64(area->end, edit.end);
        if (start >= end) continue;
        if (edit.op == VmOp::Protect && area->prot == edit.attrs.prot) continue;
        sink(VmChange{start, end, area->prot, area->kind, area->tag});
    }
}

// Runs produced but not yet written: a run can come out before its slot has been read, when
// one area yields several pieces (a split). The count above bounds the backlog.
class Backlog {
public:
    bool empty() const { return m_count == 0; }
    void push(const Segment& segment) {
        if (m_count == kCapacity) __builtin_trap();  // broken invariant: runs outran slots
        m_items[(m_head + m_count++) % kCapacity] = segment;
    }
    Segment pop() {
        Segment segment = m_items[m_head];
        m_head = (m_head + 1) % kCapacity;
        --m_count;
        return segment;
    }

private:
    static constexpr size_t kCapacity = 4;
    Segment m_items[kCapacity]{};
    size_t m_head = 0;
    size_t m_count = 0;
};

// Cannot fail: every node it needs is in `spare`. While slots are being overwritten the
// tree's keys are briefly out of order; only in-place writes and (once the runs are all
// written) erase happen then, and neither looks at keys. Inserts see a sorted tree.
void rewrite(AreaTree& tree, NodeAllocator& nodes, const Edit& edit, const Window& window,
             VmArea** spare, size_t spares) {
    Backlog backlog;
    AreaNode* read = window.first;
    AreaNode* write = window.first;
    size_t read_count = 0, written = 0;
    auto flush = [&](size_t writable) {
        while (!backlog.empty() && written < writable) {
            assign(write, backlog.pop());
            write = AreaTree::next(write);
            ++written;
        }
    };
    auto push = [&](const Segment& run) { backlog.push(run); };
    RunBuilder builder(push);
    bool placed = false;
    for (size_t i = 0; i < window.slots; ++i) {
        Segment area = segment_of(read);  // copied before its slot can be overwritten
        read = AreaTree::next(read);
        ++read_count;
        pieces_of(edit, area, placed, [&](const Segment& piece) { builder.add(piece); });
        flush(read_count);
    }
    if (edit.op == VmOp::Map && !placed) builder.add({edit.start, edit.end, edit.attrs});
    builder.finish();
    flush(window.slots);

    size_t used = 0;
    while (!backlog.empty()) {
        if (used == spares) __builtin_trap();  // broken invariant: plan() miscounted
        VmArea* node = spare[used++];
        assign(node, backlog.pop());
        tree.insert(node);
    }
    while (written < window.slots) {
        AreaNode* gone = write;
        write = AreaTree::next(write);
        tree.erase(gone);
        nodes.release(static_cast<VmArea*>(gone));
        ++written;
    }
    while (used < spares) nodes.release(spare[used++]);
    tree.refresh_gaps(window.lo, window.hi);
}

}  // namespace

VmAreaMap::VmAreaMap(NodeAllocator& nodes, VmLimits limits) : m_nodes(nodes), m_limits(limits) {}

// Linux's order of checks and errnos: mmap (do_mmap), munmap (__vm_munmap), mprotect
// (do_mprotect_pkey).
ErrorOr VmAreaMap::validate(VmOp op, uint64_t start, uint64_t length, VmAttrs attrs,
                            uint64_t& end) const {
    if (!is_page_aligned(start)) return Errno::Inval;
    if (op == VmOp::Protect && length == 0) {
        end = start;
        return {};
    }
    if (length == 0 || (attrs.prot & ~kProtMask) != 0) return Errno::Inval;
    Errno too_big = op == VmOp::Unmap ? Errno::Inval : Errno::NoMem;
    auto rounded = align_up(length, kPageSize);
    if (!rounded) return too_big;
    uint64_t limit = m_limits.address_end;
    if (start > limit || *rounded > limit - start) return too_big;
    end = start + *rounded;
    return {};
}

ErrorOr VmAreaMap::apply(VmOp op, uint64_t start, uint64_t length, VmAttrs attrs, ChangeSink sink) {
    uint64_t end = 0;
    TRY(validate(op, start, length, attrs, end));
    if (end == start) return {};
    Edit edit{op, start, end, attrs};
    Window window = plan(m_tree, edit);
    if (op == VmOp::Protect && window.hole) return Errno::NoMem;
    if (m_tree.size() - window.slots + window.runs > m_limits.max_areas) return Errno::NoMem;

    size_t spares = window.runs > window.slots ? window.runs - window.slots : 0;
    if (spares > kMaxSpares) __builtin_trap();  // broken invariant: plan() miscounted
    VmArea* spare[kMaxSpares] = {};
    for (size_t i = 0; i < spares; ++i) {
        spare[i] = m_nodes.allocate();
        if (!spare[i]) {
            for (size_t j = 0; j < i; ++j) m_nodes.release(spare[j]);
            return Errno::NoMem;
        }
    }
    report(edit, window, sink);
    rewrite(m_tree, m_nodes, edit, window, spare, spares);
    return {};
}

bool VmAreaMap::is_free(uint64_t start, uint64_t length) const {
    if (length == 0) return true;
    uint64_t end = checked_add(start, length).value_or(~uint64_t(0));
    const AreaNode* node = m_tree.first_ending_after(start);
    return !node || node->start >= end;
}

Result<uint64_t> VmAreaMap::find_free(uint64_t length, uint64_t lo, uint64_t hi,
                                      bool top_down) const {
    if (length == 0) return Errno::Inval;
    auto rounded = align_up(length, kPageSize);
    auto low = align_up(lo, kPageSize);
    if (!rounded || !low) return Errno::NoMem;
    uint64_t high = align_down(min_u64(hi, m_limits.address_end), kPageSize);
    auto found = m_tree.find_gap(*rounded, *low, high, top_down);
    if (!found) return Errno::NoMem;
    return *found;
}

ErrorOr VmAreaMap::copy_from(const VmAreaMap& other) {
    if (&other == this) return {};
    clear();
    if (other.count() > m_limits.max_areas) return Errno::NoMem;
    for (const VmArea& area : other) {
        VmArea* copy = m_nodes.allocate();
        if (!copy) {
            clear();
            return Errno::NoMem;
        }
        assign(copy, segment_of(&area));
        m_tree.insert(copy);
    }
    return {};
}

void VmAreaMap::clear() {
    m_tree.clear([this](AreaNode* node) { m_nodes.release(static_cast<VmArea*>(node)); });
}

bool VmAreaMap::check_invariants() const {
    if (!m_tree.check() || count() > m_limits.max_areas) return false;
    const VmArea* previous = nullptr;
    for (const VmArea& area : *this) {
        if (!is_page_aligned(area.start) || !is_page_aligned(area.end)) return false;
        if (area.end > m_limits.address_end || (area.prot & ~kProtMask) != 0) return false;
        if (previous && previous->end == area.start && previous->attrs() == area.attrs())
            return false;
        previous = &area;
    }
    return true;
}

}  // namespace lib::vm
