// Fuzzes lib/vm/vm_area: the input is a configuration byte and then 4-byte operations (map,
// unmap, protect, find_free, fork) on the first pages of the address space, with allocator
// failures injected. After every operation the map must pass its own invariant check and
// match a page-array reference model: same areas (the maximal runs of equal attributes), same
// errors, same reported changes, same find_free answers. Any difference aborts.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <vector>

#include "lib/vm/vm_area.h"

using namespace lib::vm;
using lib::Errno;

namespace {

#define FUZZ_CHECK(condition)      \
    do {                           \
        if (!(condition)) abort(); \
    } while (0)

constexpr size_t kModelPages = 128;  // every operation stays below this many pages
constexpr uint64_t page(uint64_t n) { return n * kPageSize; }

// A fixed pool that catches double releases and foreign pointers, and can be told to fail.
class PoolNodes : public NodeAllocator {
public:
    VmArea* allocate() override {
        if (fail_after == 0) return nullptr;
        if (fail_after > 0) --fail_after;
        for (size_t i = 0; i < kCapacity; ++i) {
            if (m_used[i]) continue;
            m_used[i] = true;
            ++live;
            return &m_nodes[i];
        }
        return nullptr;
    }
    void release(VmArea* area) override {
        size_t i = size_t(area - m_nodes.data());
        FUZZ_CHECK(area >= m_nodes.data() && i < kCapacity && m_used[i]);
        m_used[i] = false;
        --live;
    }
    int fail_after = -1;
    size_t live = 0;

private:
    static constexpr size_t kCapacity = 2 * kModelPages;
    std::array<VmArea, kCapacity> m_nodes{};
    std::array<bool, kCapacity> m_used{};
};

struct Area {
    uint64_t start, end;
    VmAttrs attrs;
    bool operator==(const Area&) const = default;
};

using Pages = std::array<std::optional<VmAttrs>, kModelPages>;

std::vector<Area> runs_of(const Pages& pages) {
    std::vector<Area> out;
    for (size_t p = 0; p < kModelPages; ++p) {
        if (!pages[p]) continue;
        if (!out.empty() && out.back().end == page(p) && out.back().attrs == *pages[p])
            out.back().end += kPageSize;
        else
            out.push_back({page(p), page(p + 1), *pages[p]});
    }
    return out;
}

std::vector<Area> areas_of(const VmAreaMap& map) {
    std::vector<Area> out;
    for (const VmArea& a : map) out.push_back({a.start, a.end, a.attrs()});
    return out;
}

struct Expected {
    std::optional<Errno> error;
    Pages after;
    std::array<int, kModelPages> changed;  // old prot of each page reported, or -1
};

// Linux's checks, in Linux's order, then the effect page by page.
Expected model_apply(const Pages& pages, const VmLimits& limits, VmOp op, uint64_t start,
                     uint64_t length, VmAttrs attrs) {
    Expected out{std::nullopt, pages, {}};
    out.changed.fill(-1);
    auto fail = [&](Errno e) {
        out.error = e;
        out.after = pages;
        out.changed.fill(-1);
        return out;
    };
    if (start % kPageSize) return fail(Errno::Inval);
    if (op == VmOp::Protect && length == 0) return out;
    if (length == 0 || (op != VmOp::Unmap && (attrs.prot & ~kProtMask))) return fail(Errno::Inval);
    uint64_t rounded = (length + kPageSize - 1) / kPageSize * kPageSize;
    if (start + rounded > limits.address_end)
        return fail(op == VmOp::Unmap ? Errno::Inval : Errno::NoMem);
    for (uint64_t p = start / kPageSize; p < (start + rounded) / kPageSize; ++p) {
        auto& slot = out.after[p];
        if (op == VmOp::Protect) {
            if (!slot) return fail(Errno::NoMem);
            if (slot->prot != attrs.prot) out.changed[p] = slot->prot;
            slot->prot = attrs.prot;
        } else {
            if (slot) out.changed[p] = slot->prot;
            slot = op == VmOp::Map ? std::optional<VmAttrs>(attrs) : std::nullopt;
        }
    }
    if (runs_of(out.after).size() > limits.max_areas) return fail(Errno::NoMem);
    return out;
}

std::optional<uint64_t> model_find_free(const Pages& pages, const VmLimits& limits, uint64_t length,
                                        uint64_t lo, uint64_t hi, bool down) {
    uint64_t first = (lo + kPageSize - 1) / kPageSize;
    uint64_t end = (hi < limits.address_end ? hi : limits.address_end) / kPageSize;
    uint64_t count = (length + kPageSize - 1) / kPageSize;
    if (first > end || end - first < count) return std::nullopt;
    auto fits = [&](uint64_t s) {
        for (uint64_t p = s; p < s + count; ++p)
            if (p < kModelPages && pages[p]) return false;
        return true;
    };
    for (uint64_t i = 0; i <= end - first - count; ++i) {
        uint64_t s = down ? end - count - i : first + i;
        if (fits(s)) return page(s);
    }
    return std::nullopt;
}

void check_same(const VmAreaMap& map, const Pages& pages, const PoolNodes& nodes) {
    FUZZ_CHECK(map.check_invariants());
    FUZZ_CHECK(areas_of(map) == runs_of(pages));
    FUZZ_CHECK(nodes.live == map.count());
    for (size_t p = 0; p < kModelPages; ++p) {
        const VmArea* area = map.find(page(p) + p % kPageSize);
        FUZZ_CHECK((area != nullptr) == pages[p].has_value());
        if (area) FUZZ_CHECK(area->attrs() == *pages[p]);
    }
}

void run_edit(VmAreaMap& map, PoolNodes& nodes, Pages& pages, const uint8_t* op_bytes) {
    const VmLimits& limits = map.limits();
    VmOp op = VmOp(op_bytes[0] & 3);
    bool inject = op_bytes[0] & 4;
    int allow = (op_bytes[0] >> 3) & 1;
    uint64_t start = page(op_bytes[1] % 72) + (op_bytes[0] & 0x20 ? 8 : 0);
    uint64_t length = page(op_bytes[2] % 20) - (op_bytes[0] & 0x40 ? op_bytes[3] : 0);
    if (op_bytes[2] % 20 == 0) length = 0;
    VmAttrs attrs{op_bytes[3] & 0xf, VmKind((op_bytes[3] >> 4) & 3), uint64_t(op_bytes[3] >> 7)};
    if (attrs.prot > 8) attrs.prot &= kProtMask;  // an invalid prot now and then, not mostly

    Expected expected = model_apply(pages, limits, op, start, length, attrs);
    // Nodes are allocated, before any change, exactly when the area count grows.
    size_t count_after = expected.error ? map.count() : runs_of(expected.after).size();
    bool alloc_fails = inject && count_after > map.count() + size_t(allow);
    auto before = areas_of(map);
    std::array<int, kModelPages> reported;
    reported.fill(-1);
    uint64_t last_end = 0;
    auto record = [&](const VmChange& c) {
        FUZZ_CHECK(c.start < c.end && c.start >= last_end && c.end <= page(kModelPages));
        FUZZ_CHECK(c.start % kPageSize == 0 && c.end % kPageSize == 0);
        last_end = c.end;
        for (uint64_t p = c.start / kPageSize; p < c.end / kPageSize; ++p) {
            FUZZ_CHECK(pages[p] && pages[p]->kind == c.kind && pages[p]->tag == c.tag);
            reported[p] = c.old_prot;
        }
    };
    nodes.fail_after = inject ? allow : -1;
    lib::ErrorOr result = op == VmOp::Map     ? map.map(start, length, attrs, record)
                          : op == VmOp::Unmap ? map.unmap(start, length, record)
                                              : map.protect(start, length, attrs.prot, record);
    nodes.fail_after = -1;
    if (expected.error || alloc_fails) {
        FUZZ_CHECK(result.is_error());
        FUZZ_CHECK(result.error() == (alloc_fails ? Errno::NoMem : *expected.error));
        for (int old : reported) FUZZ_CHECK(old == -1);
        FUZZ_CHECK(areas_of(map) == before);
    } else {
        FUZZ_CHECK(!result.is_error());
        FUZZ_CHECK(reported == expected.changed);
        pages = expected.after;
    }
}

void run_query(VmAreaMap& map, PoolNodes& nodes, const Pages& pages, const uint8_t* op_bytes) {
    if (op_bytes[0] & 0x80) {
        // fork: the copy must hold the same areas, or nothing when the allocator fails.
        VmAreaMap child(nodes, map.limits());
        int allow = op_bytes[0] & 4 ? op_bytes[3] % 8 : -1;
        nodes.fail_after = allow;
        auto copied = child.copy_from(map);
        nodes.fail_after = -1;
        FUZZ_CHECK(copied.is_error() == (allow >= 0 && map.count() > size_t(allow)));
        FUZZ_CHECK(child.check_invariants());
        FUZZ_CHECK(copied.is_error() ? child.count() == 0 : areas_of(child) == areas_of(map));
        return;
    }
    bool down = op_bytes[0] & 0x10;
    uint64_t length = page(op_bytes[3] % 12) - (op_bytes[0] & 0x40 ? 100 : 0);
    if (op_bytes[3] % 12 == 0) length = 0;
    uint64_t lo = page(op_bytes[1] % 72) + (op_bytes[0] & 0x20 ? 8 : 0);
    uint64_t hi = page(op_bytes[2] % 100) - (op_bytes[0] & 0x08 ? 8 : 0);
    if (op_bytes[2] % 100 == 0) hi = 0;
    auto found = map.find_free(length, lo, hi, down);
    if (length == 0) {
        FUZZ_CHECK(found.is_error() && found.error() == Errno::Inval);
        return;
    }
    auto expected = model_find_free(pages, map.limits(), length, lo, hi, down);
    FUZZ_CHECK(found.has_value() == expected.has_value());
    if (expected) FUZZ_CHECK(found.value() == *expected);
    if (!expected) FUZZ_CHECK(found.error() == Errno::NoMem);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    VmLimits limits;
    if (data[0] & 0x0f) limits.max_areas = data[0] & 0x0f;
    if (data[0] & 0x10) limits.address_end = page(48);
    PoolNodes nodes;
    Pages pages{};
    {
        VmAreaMap map(nodes, limits);
        for (size_t at = 1; at + 4 <= size; at += 4) {
            if ((data[at] & 3) == 3)
                run_query(map, nodes, pages, data + at);
            else
                run_edit(map, nodes, pages, data + at);
            check_same(map, pages, nodes);
        }
    }
    FUZZ_CHECK(nodes.live == 0);
    return 0;
}
