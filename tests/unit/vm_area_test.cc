// lib/vm/vm_area: MAP_FIXED replacement, munmap splits and trims, mprotect, merging,
// find_free, the area limit, allocator failure, and a randomized comparison against a
// page-granular reference model (std::map of page -> attributes).
#include "lib/vm/vm_area.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <random>
#include <sstream>
#include <vector>

using namespace lib::vm;
using lib::Errno;

namespace {

constexpr uint64_t kBase = 0x4000'0000;
constexpr uint64_t page(uint64_t n) { return kBase + n * kPageSize; }
constexpr int kR = kProtRead, kRW = kProtRead | kProtWrite, kRX = kProtRead | kProtExec;

// Nodes from new/delete, counting the live ones; fail_after = n lets n more allocations
// succeed and fails the rest.
class TestNodes : public NodeAllocator {
public:
    ~TestNodes() { EXPECT_EQ(live, 0) << "area nodes leaked"; }
    VmArea* allocate() override {
        if (fail_after == 0) return nullptr;
        if (fail_after > 0) --fail_after;
        ++live;
        return new VmArea;
    }
    void release(VmArea* area) override {
        --live;
        delete area;
    }
    int fail_after = -1;
    int live = 0;
};

struct Area {
    uint64_t start, end;
    VmAttrs attrs;
    bool operator==(const Area&) const = default;
};

void PrintTo(const Area& a, std::ostream* os) {
    *os << std::hex << "[" << a.start << "," << a.end << ") prot " << a.attrs.prot << " kind "
        << int(a.attrs.kind) << " tag " << a.attrs.tag;
}

std::vector<Area> areas_of(const VmAreaMap& map) {
    std::vector<Area> out;
    for (const VmArea& a : map) out.push_back({a.start, a.end, a.attrs()});
    return out;
}

VmAttrs anon(int prot, uint64_t tag = 0) { return {prot, VmKind::Anonymous, tag}; }

// Records the changes an operation reports.
struct Changes {
    std::vector<VmChange> list;
    void operator()(const VmChange& c) { list.push_back(c); }
};

void expect_change(const VmChange& c, uint64_t start, uint64_t end, int old_prot) {
    EXPECT_EQ(c.start, start);
    EXPECT_EQ(c.end, end);
    EXPECT_EQ(c.old_prot, old_prot);
}

struct Fixture : ::testing::Test {
    TestNodes nodes;
    VmAreaMap map{nodes};
    void must(lib::ErrorOr result) { ASSERT_FALSE(result.is_error()) << int(result.error()); }
};

using VmAreaMapTest = Fixture;

TEST_F(VmAreaMapTest, MapFindAndIterate) {
    must(map.map(page(2), 3 * kPageSize, anon(kRW)));
    must(map.map(page(8), 1, {kRX, VmKind::Program, 7}));  // length rounds up to a page
    EXPECT_EQ(map.count(), 2u);
    EXPECT_EQ(map.find(page(1) + 4095), nullptr);
    ASSERT_NE(map.find(page(4) + 4095), nullptr);
    EXPECT_EQ(map.find(page(4))->start, page(2));
    EXPECT_EQ(map.find(page(5)), nullptr);
    EXPECT_EQ(map.find(page(8))->tag, 7u);
    EXPECT_EQ(map.first_ending_after(page(5))->start, page(8));
    EXPECT_EQ(map.first_ending_after(page(9)), nullptr);
    EXPECT_TRUE(map.is_free(page(5), 3 * kPageSize));
    EXPECT_FALSE(map.is_free(page(5), 4 * kPageSize));
    EXPECT_FALSE(map.is_free(page(0), ~uint64_t(0)));
    std::vector<Area> expected = {{page(2), page(5), anon(kRW)},
                                  {page(8), page(9), {kRX, VmKind::Program, 7}}};
    EXPECT_EQ(areas_of(map), expected);
    EXPECT_TRUE(map.check_invariants());
}

TEST_F(VmAreaMapTest, ArgumentErrorsFollowLinux) {
    uint64_t end = kDefaultUserEnd;
    EXPECT_EQ(map.map(page(0) + 1, kPageSize, anon(kR)).error(), Errno::Inval);
    EXPECT_EQ(map.map(page(0), 0, anon(kR)).error(), Errno::Inval);
    EXPECT_EQ(map.map(page(0), kPageSize, anon(8)).error(), Errno::Inval);
    EXPECT_EQ(map.map(end - kPageSize, 2 * kPageSize, anon(kR)).error(), Errno::NoMem);
    EXPECT_EQ(map.map(page(0), ~uint64_t(0), anon(kR)).error(), Errno::NoMem);  // rounding wraps
    must(map.map(end - kPageSize, kPageSize, anon(kR)));                        // the last page
    EXPECT_EQ(map.unmap(page(0) + 8, kPageSize).error(), Errno::Inval);
    EXPECT_EQ(map.unmap(page(0), 0).error(), Errno::Inval);
    EXPECT_EQ(map.unmap(end, kPageSize).error(), Errno::Inval);
    EXPECT_EQ(map.unmap(page(0), ~uint64_t(0)).error(), Errno::Inval);
    EXPECT_EQ(map.protect(page(0) + 8, kPageSize, kR).error(), Errno::Inval);
    must(map.protect(page(0), 0, kR));  // zero length: nothing to do, even unmapped
    EXPECT_EQ(map.protect(page(0), ~uint64_t(0), kR).error(), Errno::NoMem);
    EXPECT_EQ(map.protect(end - kPageSize, kPageSize, 16).error(), Errno::Inval);
    EXPECT_EQ(map.find_free(0, 0, end).error(), Errno::Inval);
    EXPECT_EQ(map.count(), 1u);
}

TEST_F(VmAreaMapTest, UnmapInTheMiddleSplits) {
    must(map.map(page(0), 10 * kPageSize, anon(kRW, 3)));
    Changes changes;
    must(map.unmap(page(4), 2 * kPageSize, changes));
    ASSERT_EQ(changes.list.size(), 1u);
    expect_change(changes.list[0], page(4), page(6), kRW);
    EXPECT_EQ(changes.list[0].tag, 3u);
    std::vector<Area> expected = {{page(0), page(4), anon(kRW, 3)},
                                  {page(6), page(10), anon(kRW, 3)}};
    EXPECT_EQ(areas_of(map), expected);
    EXPECT_EQ(nodes.live, 2);
    EXPECT_TRUE(map.check_invariants());
}

TEST_F(VmAreaMapTest, UnmapTrimsBothEdgesAndRemovesWhatIsInside) {
    must(map.map(page(0), 4 * kPageSize, anon(kR)));
    must(map.map(page(4), 2 * kPageSize, anon(kRW)));
    must(map.map(page(6), 4 * kPageSize, anon(kRX)));
    Changes changes;
    must(map.unmap(page(2), 6 * kPageSize, changes));
    ASSERT_EQ(changes.list.size(), 3u);
    expect_change(changes.list[0], page(2), page(4), kR);
    expect_change(changes.list[1], page(4), page(6), kRW);
    expect_change(changes.list[2], page(6), page(8), kRX);
    std::vector<Area> expected = {{page(0), page(2), anon(kR)}, {page(8), page(10), anon(kRX)}};
    EXPECT_EQ(areas_of(map), expected);
    EXPECT_EQ(nodes.live, 2);
}

TEST_F(VmAreaMapTest, UnmappingHolesIsFine) {
    Changes changes;
    must(map.unmap(page(0), 100 * kPageSize, changes));
    EXPECT_TRUE(changes.list.empty());
    must(map.map(page(10), kPageSize, anon(kR)));
    must(map.unmap(page(0), 100 * kPageSize, changes));
    ASSERT_EQ(changes.list.size(), 1u);
    expect_change(changes.list[0], page(10), page(11), kR);
    EXPECT_EQ(map.count(), 0u);
    EXPECT_EQ(nodes.live, 0);
}

TEST_F(VmAreaMapTest, MapReplacesEverythingItOverlaps) {
    must(map.map(page(0), 2 * kPageSize, anon(kR)));
    must(map.map(page(3), 2 * kPageSize, anon(kRW)));
    must(map.map(page(6), 2 * kPageSize, anon(kRX)));
    Changes changes;
    must(map.map(page(1), 6 * kPageSize, {kRW, VmKind::Heap, 0}, changes));
    ASSERT_EQ(changes.list.size(), 3u);
    expect_change(changes.list[0], page(1), page(2), kR);
    expect_change(changes.list[1], page(3), page(5), kRW);
    expect_change(changes.list[2], page(6), page(7), kRX);
    std::vector<Area> expected = {{page(0), page(1), anon(kR)},
                                  {page(1), page(7), {kRW, VmKind::Heap, 0}},
                                  {page(7), page(8), anon(kRX)}};
    EXPECT_EQ(areas_of(map), expected);
    EXPECT_EQ(nodes.live, 3);
    EXPECT_TRUE(map.check_invariants());
}

TEST_F(VmAreaMapTest, MapOverAnIdenticalAreaStillReportsTheOldPages) {
    must(map.map(page(0), 8 * kPageSize, anon(kRW)));
    Changes changes;
    must(map.map(page(2), 2 * kPageSize, anon(kRW), changes));
    ASSERT_EQ(changes.list.size(), 1u);  // the old contents must be dropped all the same
    expect_change(changes.list[0], page(2), page(4), kRW);
    EXPECT_EQ(map.count(), 1u);
    EXPECT_EQ(nodes.live, 1);
}

TEST_F(VmAreaMapTest, NeighboursWithEqualAttributesMerge) {
    must(map.map(page(0), 2 * kPageSize, anon(kRW)));
    must(map.map(page(4), 2 * kPageSize, anon(kRW)));
    must(map.map(page(2), 2 * kPageSize, anon(kRW)));
    std::vector<Area> merged = {{page(0), page(6), anon(kRW)}};
    EXPECT_EQ(areas_of(map), merged);
    EXPECT_EQ(nodes.live, 1);
    // Different kind, tag or protection: no merge.
    must(map.map(page(6), kPageSize, {kRW, VmKind::Heap, 0}));
    must(map.map(page(7), kPageSize, anon(kRW, 1)));
    must(map.map(page(8), kPageSize, anon(kR)));
    EXPECT_EQ(map.count(), 4u);
    EXPECT_TRUE(map.check_invariants());
}

TEST_F(VmAreaMapTest, RepeatedTopDownMmapsStayOneArea) {
    uint64_t lo = page(0), hi = page(5000);
    for (int i = 0; i < 3000; ++i) {
        uint64_t at = map.find_free(kPageSize, lo, hi).value();
        EXPECT_EQ(at, hi - (i + 1) * kPageSize);
        must(map.map(at, kPageSize, anon(kRW)));
    }
    EXPECT_EQ(map.count(), 1u);
    EXPECT_EQ(nodes.live, 1);
}

TEST_F(VmAreaMapTest, BrkGrowsAndShrinksOneHeapArea) {
    VmAttrs heap{kRW, VmKind::Heap, 0};
    must(map.map(page(100), kPageSize, heap));
    for (int i = 1; i < 50; ++i) must(map.map(page(100 + i), kPageSize, heap));
    EXPECT_EQ(map.count(), 1u);
    EXPECT_EQ(map.find(page(120))->end, page(150));
    must(map.unmap(page(110), 40 * kPageSize));
    EXPECT_EQ(map.find(page(100))->end, page(110));
}

TEST_F(VmAreaMapTest, ProtectSplitsThenMergesBack) {
    must(map.map(page(0), 10 * kPageSize, anon(kRW)));
    Changes changes;
    must(map.protect(page(3), 2 * kPageSize, kR, changes));
    ASSERT_EQ(changes.list.size(), 1u);
    expect_change(changes.list[0], page(3), page(5), kRW);
    std::vector<Area> split = {{page(0), page(3), anon(kRW)},
                               {page(3), page(5), anon(kR)},
                               {page(5), page(10), anon(kRW)}};
    EXPECT_EQ(areas_of(map), split);
    must(map.protect(page(3), 2 * kPageSize, kRW, changes));
    ASSERT_EQ(changes.list.size(), 2u);
    expect_change(changes.list[1], page(3), page(5), kR);
    EXPECT_EQ(map.count(), 1u);
    EXPECT_EQ(nodes.live, 1);
}

TEST_F(VmAreaMapTest, ProtectReportsOnlyWhatChangesAndKeepsKinds) {
    must(map.map(page(0), 2 * kPageSize, anon(kR)));
    must(map.map(page(2), 2 * kPageSize, anon(kRW)));
    must(map.map(page(4), 2 * kPageSize, {kR, VmKind::Stack, 0}));
    Changes changes;
    must(map.protect(page(1), 5 * kPageSize, kRW, changes));
    ASSERT_EQ(changes.list.size(), 2u);
    expect_change(changes.list[0], page(1), page(2), kR);
    expect_change(changes.list[1], page(4), page(6), kR);
    EXPECT_EQ(changes.list[1].kind, VmKind::Stack);
    std::vector<Area> expected = {{page(0), page(1), anon(kR)},
                                  {page(1), page(4), anon(kRW)},
                                  {page(4), page(6), {kRW, VmKind::Stack, 0}}};
    EXPECT_EQ(areas_of(map), expected);
    EXPECT_TRUE(map.check_invariants());
}

TEST_F(VmAreaMapTest, ProtectAcrossAHoleFailsAndChangesNothing) {
    must(map.map(page(0), 2 * kPageSize, anon(kR)));
    must(map.map(page(3), 2 * kPageSize, anon(kR)));
    auto before = areas_of(map);
    Changes changes;
    EXPECT_EQ(map.protect(page(0), 5 * kPageSize, kRW, changes).error(), Errno::NoMem);
    EXPECT_EQ(map.protect(page(1), 10 * kPageSize, kRW, changes).error(), Errno::NoMem);
    EXPECT_EQ(map.protect(page(5), kPageSize, kRW, changes).error(), Errno::NoMem);
    EXPECT_TRUE(changes.list.empty());
    EXPECT_EQ(areas_of(map), before);
    must(map.protect(page(3), 2 * kPageSize, kRW));
}

TEST_F(VmAreaMapTest, FindFreeTopDownBottomUpAndFull) {
    // Areas at pages [18, 20) and [15, 16) below hi = page(20): holes [16, 18) and [0, 15).
    must(map.map(page(18), 2 * kPageSize, anon(kR)));
    must(map.map(page(15), kPageSize, anon(kRW)));
    uint64_t lo = page(0), hi = page(20);
    EXPECT_EQ(map.find_free(kPageSize, lo, hi).value(), page(17));
    EXPECT_EQ(map.find_free(2 * kPageSize, lo, hi).value(), page(16));
    EXPECT_EQ(map.find_free(3 * kPageSize, lo, hi).value(), page(12));
    EXPECT_EQ(map.find_free(kPageSize, lo, hi, false).value(), page(0));
    EXPECT_EQ(map.find_free(2 * kPageSize, page(14), hi, false).value(), page(16));
    EXPECT_EQ(map.find_free(1, lo + 1, hi - 1).value(), page(17));  // bounds round inwards
    EXPECT_EQ(map.find_free(16 * kPageSize, lo, hi).error(), Errno::NoMem);
    EXPECT_EQ(map.find_free(3 * kPageSize, page(13), hi).error(), Errno::NoMem);
    EXPECT_EQ(map.find_free(kPageSize, page(18), page(20)).error(), Errno::NoMem);
    EXPECT_EQ(map.find_free(kPageSize, hi, lo).error(), Errno::NoMem);
    // Above every area: the top of the range.
    EXPECT_EQ(map.find_free(kPageSize, lo, page(30)).value(), page(29));
    must(map.map(page(0), 15 * kPageSize, anon(kRW)));
    must(map.map(page(16), 2 * kPageSize, anon(kR)));
    EXPECT_EQ(map.find_free(kPageSize, lo, hi).error(), Errno::NoMem);
    EXPECT_EQ(map.find_free(kPageSize, lo, ~uint64_t(0)).value(), kDefaultUserEnd - kPageSize);
}

TEST_F(VmAreaMapTest, FindFreeInALargeTreePicksTheRightHole) {
    // 4000 one-page areas with one-page holes, alternating protections so nothing merges;
    // one three-page hole low down and one high up.
    for (uint64_t i = 0; i < 4000; ++i)
        if (i != 500 && i != 3000) must(map.map(page(4 * i), kPageSize, anon(i % 2 ? kR : kRW)));
    for (uint64_t i = 0; i < 4000; ++i) must(map.map(page(4 * i + 2), kPageSize, anon(kRX)));
    uint64_t hi = page(16000);
    // The holes are [1999, 2002) and [11999, 12002).
    EXPECT_EQ(map.find_free(2 * kPageSize, page(0), hi).value(), page(12000));
    EXPECT_EQ(map.find_free(2 * kPageSize, page(0), hi, false).value(), page(1999));
    EXPECT_EQ(map.find_free(2 * kPageSize, page(0), page(11999)).value(), page(2000));
    EXPECT_EQ(map.find_free(2 * kPageSize, page(12000), hi, false).value(), page(12000));
    EXPECT_EQ(map.find_free(4 * kPageSize, page(0), hi).error(), Errno::NoMem);
    EXPECT_EQ(map.find_free(kPageSize, page(0), hi).value(), page(15999));
    EXPECT_TRUE(map.check_invariants());
}

TEST(VmAreaMapLimits, AreaLimitIsExactAndCountsMerges) {
    TestNodes nodes;
    VmAreaMap map(nodes, {kDefaultUserEnd, 3});
    auto ok = [](lib::ErrorOr r) { return !r.is_error(); };
    ASSERT_TRUE(ok(map.map(page(0), kPageSize, anon(kR))));
    ASSERT_TRUE(ok(map.map(page(2), kPageSize, anon(kR))));
    ASSERT_TRUE(ok(map.map(page(4), 2 * kPageSize, anon(kR))));
    EXPECT_EQ(map.map(page(8), kPageSize, anon(kR)).error(), Errno::NoMem);
    EXPECT_TRUE(ok(map.map(page(6), kPageSize, anon(kR))));  // merges: still three
    EXPECT_TRUE(ok(map.map(page(1), kPageSize, anon(kR))));  // joins two: now two
    EXPECT_EQ(map.count(), 2u);
    EXPECT_TRUE(ok(map.unmap(page(5), kPageSize)));  // split: three
    EXPECT_EQ(map.unmap(page(1), kPageSize).error(), Errno::NoMem);
    EXPECT_EQ(map.protect(page(1), kPageSize, kRW).error(), Errno::NoMem);
    EXPECT_TRUE(ok(map.protect(page(0), 3 * kPageSize, kRW)));  // whole area: no split
    EXPECT_EQ(map.count(), 3u);
    EXPECT_TRUE(map.check_invariants());
}

TEST(VmAreaMapLimits, DefaultLimitIsLinuxMaxMapCount) {
    TestNodes nodes;
    VmAreaMap map(nodes);
    for (uint64_t i = 0; i < kDefaultMaxAreas; ++i)
        ASSERT_FALSE(map.map(page(2 * i), kPageSize, anon(kR)).is_error());
    EXPECT_EQ(map.count(), 65530u);
    EXPECT_EQ(map.map(page(2 * kDefaultMaxAreas), kPageSize, anon(kR)).error(), Errno::NoMem);
    EXPECT_EQ(map.map(page(1), kPageSize, anon(kRW)).error(), Errno::NoMem);
    EXPECT_FALSE(map.map(page(1), kPageSize, anon(kR)).is_error());  // merges two into one
    EXPECT_EQ(map.count(), 65529u);
    EXPECT_TRUE(map.check_invariants());
}

// Every way an operation can need nodes, with the allocator failing at the first and at the
// second allocation: NoMem, no callback, and the map exactly as before.
TEST(VmAreaMapFailure, AllocatorFailureLeavesTheMapUnchanged) {
    struct Case {
        const char* what;
        int needed;
        lib::ErrorOr (*run)(VmAreaMap&, Changes&);
    };
    const Case cases[] = {
        {"map into a hole", 1,
         [](VmAreaMap& m, Changes& c) { return m.map(page(20), kPageSize, anon(kR), c); }},
        {"map in the middle of an area", 2,
         [](VmAreaMap& m, Changes& c) { return m.map(page(2), kPageSize, anon(kR), c); }},
        {"unmap in the middle", 1,
         [](VmAreaMap& m, Changes& c) { return m.unmap(page(2), kPageSize, c); }},
        {"protect in the middle", 2,
         [](VmAreaMap& m, Changes& c) { return m.protect(page(2), kPageSize, kR, c); }},
        {"protect an edge", 1,
         [](VmAreaMap& m, Changes& c) { return m.protect(page(0), kPageSize, kR, c); }},
        {"map across two areas' edges", 1,
         [](VmAreaMap& m, Changes& c) { return m.map(page(7), 4 * kPageSize, anon(kRX), c); }},
    };
    for (const Case& test : cases) {
        for (int allow = 0; allow <= 2; ++allow) {
            SCOPED_TRACE(test.what);
            TestNodes nodes;
            VmAreaMap map(nodes);
            ASSERT_FALSE(map.map(page(0), 8 * kPageSize, anon(kRW)).is_error());
            ASSERT_FALSE(map.map(page(8), 8 * kPageSize, anon(kR)).is_error());
            auto before = areas_of(map);
            int live = nodes.live;
            nodes.fail_after = allow;
            Changes changes;
            auto result = test.run(map, changes);
            if (allow < test.needed) {
                ASSERT_TRUE(result.is_error());
                EXPECT_EQ(result.error(), Errno::NoMem);
                EXPECT_TRUE(changes.list.empty());
                EXPECT_EQ(areas_of(map), before);
                EXPECT_EQ(nodes.live, live);
            } else {
                EXPECT_FALSE(result.is_error());
                EXPECT_NE(areas_of(map), before);
            }
            EXPECT_TRUE(map.check_invariants());
        }
    }
}

TEST(VmAreaMapFailure, CopyFromForkAndItsFailure) {
    TestNodes nodes;
    VmAreaMap parent(nodes);
    for (uint64_t i = 0; i < 10; ++i)
        ASSERT_FALSE(parent.map(page(3 * i), kPageSize, anon(kR, i)).is_error());
    VmAreaMap child(nodes);
    ASSERT_FALSE(child.map(page(100), kPageSize, anon(kR)).is_error());
    ASSERT_FALSE(child.copy_from(parent).is_error());
    EXPECT_EQ(areas_of(child), areas_of(parent));
    EXPECT_TRUE(child.check_invariants());
    nodes.fail_after = 4;
    EXPECT_EQ(child.copy_from(parent).error(), Errno::NoMem);
    EXPECT_EQ(child.count(), 0u);
    EXPECT_EQ(nodes.live, 10);
}

// The reference: one entry per mapped page. Areas are its maximal runs of equal attributes.
class Model {
public:
    explicit Model(VmLimits limits) : m_limits(limits) {}

    std::vector<Area> areas() const { return runs_of(m_pages); }
    std::optional<VmAttrs> at(uint64_t addr) const {
        auto it = m_pages.find(addr & ~(kPageSize - 1));
        if (it == m_pages.end()) return std::nullopt;
        return it->second;
    }

    struct Outcome {
        std::optional<Errno> error;
        std::map<uint64_t, int> changed;  // page -> old prot
        size_t count_after = 0;
        std::map<uint64_t, VmAttrs> pages;  // the state afterwards
    };

    Outcome apply(VmOp op, uint64_t start, uint64_t length, VmAttrs attrs) const {
        Outcome out;
        auto fail = [&](Errno e) {
            out.error = e;
            return out;
        };
        if (start % kPageSize) return fail(Errno::Inval);
        out.pages = m_pages;
        if (op == VmOp::Protect && length == 0) return out;
        if (length == 0 || (op != VmOp::Unmap && (attrs.prot & ~kProtMask)))
            return fail(Errno::Inval);
        Errno too_big = op == VmOp::Unmap ? Errno::Inval : Errno::NoMem;
        uint64_t rounded = (length + kPageSize - 1) & ~(kPageSize - 1);
        if (rounded < length || start > m_limits.address_end ||
            rounded > m_limits.address_end - start)
            return fail(too_big);
        auto& pages = out.pages;
        for (uint64_t p = start; p < start + rounded; p += kPageSize) {
            auto it = pages.find(p);
            if (op == VmOp::Protect) {
                if (it == pages.end()) return fail(Errno::NoMem);
                if (it->second.prot != attrs.prot) out.changed[p] = it->second.prot;
                it->second.prot = attrs.prot;
                continue;
            }
            if (it != pages.end()) out.changed[p] = it->second.prot;
            if (op == VmOp::Map)
                pages[p] = attrs;
            else if (it != pages.end())
                pages.erase(it);
        }
        out.count_after = runs_of(pages).size();
        if (out.count_after > m_limits.max_areas) return fail(Errno::NoMem);
        return out;
    }
    void commit(const Outcome& outcome) { m_pages = outcome.pages; }

    std::optional<uint64_t> find_free(uint64_t length, uint64_t lo, uint64_t hi, bool down) const {
        length = (length + kPageSize - 1) & ~(kPageSize - 1);
        lo = (lo + kPageSize - 1) & ~(kPageSize - 1);
        hi = std::min(hi, m_limits.address_end) & ~(kPageSize - 1);
        if (lo > hi || hi - lo < length) return std::nullopt;
        auto fits = [&](uint64_t s) {
            for (uint64_t p = s; p < s + length; p += kPageSize)
                if (m_pages.count(p)) return false;
            return true;
        };
        if (down) {
            for (uint64_t s = hi - length;; s -= kPageSize) {
                if (fits(s)) return s;
                if (s < lo + kPageSize) break;
            }
        } else {
            for (uint64_t s = lo; s + length <= hi; s += kPageSize)
                if (fits(s)) return s;
        }
        return std::nullopt;
    }

private:
    static std::vector<Area> runs_of(const std::map<uint64_t, VmAttrs>& pages) {
        std::vector<Area> out;
        for (const auto& [p, attrs] : pages) {
            if (!out.empty() && out.back().end == p && out.back().attrs == attrs)
                out.back().end += kPageSize;
            else
                out.push_back({p, p + kPageSize, attrs});
        }
        return out;
    }

    VmLimits m_limits;
    std::map<uint64_t, VmAttrs> m_pages;
};

void run_randomized(uint64_t seed, VmLimits limits, int steps) {
    SCOPED_TRACE(seed);
    std::mt19937_64 rng(seed);
    TestNodes nodes;
    VmAreaMap map(nodes, limits);
    Model model(limits);
    constexpr uint64_t kPages = 64;
    int failures_seen = 0, limits_seen = 0;
    for (int step = 0; step < steps; ++step) {
        VmOp op = VmOp(rng() % 3);
        uint64_t start = page(rng() % kPages);
        uint64_t length = (1 + rng() % 12) * kPageSize;
        if (rng() % 8 == 0) length -= rng() % kPageSize;  // rounds up again
        if (rng() % 64 == 0) start += 8;
        if (rng() % 64 == 0) length = 0;
        int prot = int(rng() % 8);
        if (rng() % 64 == 0) prot = 9;
        VmKind kind = rng() % 4 == 0 ? VmKind(rng() % 4) : VmKind::Anonymous;
        VmAttrs attrs{prot, kind, rng() % 8 == 0 ? 1u : 0u};
        bool inject = rng() % 10 == 0;
        int allow = int(rng() % 2);

        std::ostringstream what;
        what << "step " << step << ": op " << int(op) << std::hex << " start " << start
             << " length " << length << " prot " << prot << " kind " << int(kind) << " tag "
             << attrs.tag << (inject ? " failing" : "");
        Model::Outcome expected = model.apply(op, start, length, attrs);
        size_t count_before = map.count();
        // Nodes are needed exactly when the count grows; each is allocated before any change.
        bool alloc_fails =
            inject && !expected.error && expected.count_after > count_before + size_t(allow);
        nodes.fail_after = inject ? allow : -1;
        auto before = areas_of(map);
        std::map<uint64_t, int> reported;
        uint64_t last_end = 0;
        auto record = [&](const VmChange& c) {
            ASSERT_LT(c.start, c.end);
            ASSERT_GE(c.start, last_end);  // in address order, never overlapping
            last_end = c.end;
            for (uint64_t p = c.start; p < c.end; p += kPageSize) {
                reported[p] = c.old_prot;
                ASSERT_TRUE(model.at(p).has_value());
                ASSERT_EQ(model.at(p)->kind, c.kind);
                ASSERT_EQ(model.at(p)->tag, c.tag);
            }
        };
        lib::ErrorOr result = op == VmOp::Map     ? map.map(start, length, attrs, record)
                              : op == VmOp::Unmap ? map.unmap(start, length, record)
                                                  : map.protect(start, length, prot, record);
        nodes.fail_after = -1;
        if (expected.error || alloc_fails) {
            ASSERT_TRUE(result.is_error()) << what.str();
            ASSERT_EQ(result.error(), alloc_fails ? Errno::NoMem : *expected.error);
            ASSERT_TRUE(reported.empty());
            ASSERT_EQ(areas_of(map), before);
            failures_seen += alloc_fails;
            limits_seen += expected.error == Errno::NoMem && op != VmOp::Protect;
        } else {
            ASSERT_FALSE(result.is_error()) << what.str() << " errno " << int(result.error());
            ASSERT_EQ(reported, expected.changed);
            model.commit(expected);
        }
        ASSERT_EQ(areas_of(map), model.areas()) << what.str();
        ASSERT_EQ(nodes.live, int(map.count()));
        ASSERT_TRUE(map.check_invariants());

        uint64_t probe = page(rng() % (kPages + 16)) + rng() % kPageSize;
        const VmArea* found = map.find(probe);
        auto attrs_at = model.at(probe);
        ASSERT_EQ(found != nullptr, attrs_at.has_value());
        if (found) {
            ASSERT_EQ(found->attrs(), *attrs_at);
        }

        uint64_t lo = page(rng() % 40), hi = page(rng() % 90), len = (1 + rng() % 10) * kPageSize;
        bool down = rng() % 2;
        auto free_at = map.find_free(len, lo, hi, down);
        auto model_free = model.find_free(len, lo, hi, down);
        ASSERT_EQ(free_at.has_value(), model_free.has_value()) << what.str();
        if (model_free) {
            ASSERT_EQ(free_at.value(), *model_free);
        }
    }
    if (limits.max_areas < 20) {
        EXPECT_GT(limits_seen, 0);
    }
    EXPECT_GT(failures_seen, 0);
}

TEST(VmAreaMapRandomized, MatchesPageModel) {
    for (uint64_t seed = 1; seed <= 4; ++seed) run_randomized(seed, {}, 3000);
}

TEST(VmAreaMapRandomized, MatchesPageModelNearTheAreaLimit) {
    for (uint64_t seed = 100; seed <= 103; ++seed) run_randomized(seed, {kDefaultUserEnd, 6}, 3000);
}

TEST(VmAreaMapRandomized, MatchesPageModelAtTheAddressEnd) {
    // The window's top pages pass the address end, so some operations hit the bound.
    run_randomized(7, {page(50), kDefaultMaxAreas}, 3000);
}

}  // namespace
