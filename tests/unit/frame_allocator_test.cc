// lib/vm/frame_allocator: region clipping, reservations, exhaustion, contiguous alignment, and
// every bad free the kernel must hear about; then a randomized run against a std::set model.
#include "lib/vm/frame_allocator.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include "lib/base/checked.h"

using namespace lib::vm;
using lib::Errno;

namespace {

constexpr uint64_t kPage = kPageSize;

// An allocator together with the bitmap storage it was given.
struct Frames {
    std::vector<uint64_t> storage;
    FrameAllocator allocator;

    explicit Frames(std::vector<PhysRegion> regions,
                    uint64_t floor = FrameAllocator::kDefaultFloor) {
        size_t bytes = FrameAllocator::storage_bytes_needed(regions, floor);
        storage.resize(bytes / sizeof(uint64_t) + 1);
        auto result =
            allocator.init(regions, {reinterpret_cast<std::byte*>(storage.data()), bytes}, floor);
        EXPECT_FALSE(result.is_error());
    }
};

std::set<uint64_t> drain(FrameAllocator& allocator) {
    std::set<uint64_t> frames;
    while (true) {
        auto frame = allocator.alloc();
        if (frame.is_error()) {
            EXPECT_EQ(frame.error(), Errno::NoMem);
            break;
        }
        EXPECT_TRUE(frames.insert(frame.value()).second) << "frame handed out twice";
    }
    EXPECT_EQ(allocator.free_frames(), 0u);
    return frames;
}

std::set<uint64_t> pages(uint64_t from, uint64_t to) {
    std::set<uint64_t> out;
    for (uint64_t a = from; a < to; a += kPage) out.insert(a);
    return out;
}

TEST(FrameAllocator, ClipsUnalignedRegionsToWholePages) {
    Frames f({{0x1800, 0x3000}});  // [0x1800, 0x4800) holds whole pages 0x2000 and 0x3000
    EXPECT_EQ(f.allocator.total_frames(), 2u);
    EXPECT_EQ(f.allocator.lowest_address(), 0x2000u);
    EXPECT_EQ(f.allocator.end_address(), 0x4000u);
    EXPECT_EQ(drain(f.allocator), pages(0x2000, 0x4000));
    EXPECT_EQ(f.allocator.state(0x1000), FrameState::Unmanaged);
    EXPECT_EQ(f.allocator.state(0x4000), FrameState::Unmanaged);
}

TEST(FrameAllocator, OverlappingUnsortedRegionsCountOnce) {
    Frames f({{0x10000, 0x4000}, {0x8000, 0xa000}, {0x12000, 0x1000}, {0x9000, 0x10}});
    EXPECT_EQ(f.allocator.total_frames(), 12u);  // the union is [0x8000, 0x14000)
    EXPECT_EQ(drain(f.allocator), pages(0x8000, 0x14000));
}

TEST(FrameAllocator, PagesBelowTheFloorAreIgnored) {
    Frames by_default({{0, 0x10000}});
    EXPECT_EQ(by_default.allocator.total_frames(), 15u);  // page 0 is never a frame
    EXPECT_EQ(by_default.allocator.state(0), FrameState::Unmanaged);

    Frames with_floor({{0, 0x10000}, {0x1000, 0x800}}, 0x2800);  // an unaligned floor rounds up
    EXPECT_EQ(with_floor.allocator.total_frames(), 13u);
    EXPECT_EQ(drain(with_floor.allocator), pages(0x3000, 0x10000));

    Frames everything({{0, 0x2000}}, 0);
    EXPECT_EQ(everything.allocator.total_frames(), 2u);
}

TEST(FrameAllocator, HolesBetweenRegionsAreNeverHandedOut) {
    Frames f({{0x100000, 0x2000}, {0x1000, 0x2000}});
    EXPECT_EQ(f.allocator.total_frames(), 4u);
    std::set<uint64_t> expected = {0x1000, 0x2000, 0x100000, 0x101000};
    EXPECT_EQ(drain(f.allocator), expected);
    EXPECT_EQ(f.allocator.state(0x50000), FrameState::Unmanaged);
    auto freed = f.allocator.free(0x50000);
    ASSERT_TRUE(freed.is_error());
    EXPECT_EQ(freed.error(), Errno::Inval);
}

TEST(FrameAllocator, RegionRunningPastTheTopOfMemoryIsClipped) {
    Frames f({{0xffff'ffff'fff0'0000, 0x200000}});  // base + length wraps
    EXPECT_EQ(f.allocator.total_frames(), 0xffu);
    EXPECT_EQ(f.allocator.end_address(), 0xffff'ffff'ffff'f000u);
    auto run = f.allocator.alloc_contiguous(0xf0, 16);
    ASSERT_TRUE(run.has_value());
    EXPECT_EQ(run.value(), 0xffff'ffff'fff0'0000u);
    EXPECT_TRUE(f.allocator.alloc_contiguous(0x10, 1).is_error());  // only 15 left
    EXPECT_EQ(drain(f.allocator).size(), 15u);
}

TEST(FrameAllocator, ReserveTakesFramesOutForGood) {
    Frames f({{0x1000, 0x10000}});  // pages 0x1000 .. 0x10000
    ASSERT_EQ(f.allocator.total_frames(), 16u);
    // Unaligned on both ends and partly below managed RAM: covers pages 0 .. 0x3000.
    f.allocator.reserve(0x800, 0x2900);
    EXPECT_EQ(f.allocator.total_frames(), 13u);
    EXPECT_EQ(f.allocator.free_frames(), 13u);
    f.allocator.reserve(0x2000, 0x1000);    // again: nothing changes
    f.allocator.reserve(0x100000, 0x1000);  // outside: ignored
    f.allocator.reserve(0x5000, 0);
    EXPECT_EQ(f.allocator.total_frames(), 13u);
    EXPECT_EQ(f.allocator.state(0x3000), FrameState::Unmanaged);
    EXPECT_EQ(f.allocator.state(0x4000), FrameState::Free);

    std::set<uint64_t> got = drain(f.allocator);
    EXPECT_EQ(got, pages(0x4000, 0x11000));
    // A reserved frame (the kernel image, say) can never be freed.
    EXPECT_TRUE(f.allocator.free(0x2000).is_error());
    EXPECT_EQ(f.allocator.free_frames(), 0u);
}

TEST(FrameAllocator, ReserveOfAnAllocatedFrameKeepsItFromComingBack) {
    Frames f({{0x1000, 0x4000}});
    uint64_t frame = f.allocator.alloc().value();
    f.allocator.reserve(frame, kPage);
    EXPECT_EQ(f.allocator.total_frames(), 3u);
    EXPECT_EQ(f.allocator.free_frames(), 3u);
    EXPECT_TRUE(f.allocator.free(frame).is_error());
}

TEST(FrameAllocator, ExhaustionThenReuseOfTheFreedFrame) {
    Frames f({{0x1000, 0x8000}});
    std::set<uint64_t> all = drain(f.allocator);
    ASSERT_EQ(all.size(), 8u);
    auto none = f.allocator.alloc();
    ASSERT_TRUE(none.is_error());
    EXPECT_EQ(none.error(), Errno::NoMem);
    ASSERT_FALSE(f.allocator.free(0x5000).is_error());
    EXPECT_EQ(f.allocator.free_frames(), 1u);
    EXPECT_EQ(f.allocator.alloc().value(), 0x5000u);
}

TEST(FrameAllocator, SingleFramesComeLowestFirstAcrossWords) {
    Frames f({{0x1000, 300 * kPage}});
    for (int i = 0; i < 300; ++i) EXPECT_EQ(f.allocator.alloc().value(), 0x1000u + i * kPage);
    // Freeing low and high frames: the hint must move back down for the low one.
    ASSERT_FALSE(f.allocator.free(0x1000u + 250 * kPage).is_error());
    ASSERT_FALSE(f.allocator.free(0x1000u + 3 * kPage).is_error());
    EXPECT_EQ(f.allocator.alloc().value(), 0x1000u + 3 * kPage);
    EXPECT_EQ(f.allocator.alloc().value(), 0x1000u + 250 * kPage);
}

TEST(FrameAllocator, BadFreesAreReportedAndChangeNothing) {
    Frames f({{0x1000, 0x8000}});
    uint64_t a = f.allocator.alloc().value();
    uint64_t b = f.allocator.alloc().value();
    ASSERT_FALSE(f.allocator.free(a).is_error());
    uint64_t free_before = f.allocator.free_frames();

    auto twice = f.allocator.free(a);  // double free
    ASSERT_TRUE(twice.is_error());
    EXPECT_EQ(twice.error(), Errno::Inval);
    EXPECT_EQ(f.allocator.state(a), FrameState::Free);
    EXPECT_TRUE(f.allocator.free(b + 1).is_error());     // unaligned
    EXPECT_TRUE(f.allocator.free(0x100000).is_error());  // past managed RAM
    EXPECT_TRUE(f.allocator.free(0).is_error());         // below it
    EXPECT_TRUE(f.allocator.free_contiguous(b, 0).is_error());
    EXPECT_TRUE(f.allocator.free_contiguous(b, ~size_t(0)).is_error());
    // A run with one free frame inside is refused whole: b stays allocated.
    EXPECT_TRUE(f.allocator.free_contiguous(a, 2).is_error());
    EXPECT_EQ(f.allocator.state(b), FrameState::Allocated);
    EXPECT_EQ(f.allocator.free_frames(), free_before);
    ASSERT_FALSE(f.allocator.free(b).is_error());
}

TEST(FrameAllocator, ContiguousRunsHonourAlignment) {
    // Managed RAM starts at an odd page; page 0x10 (first 16-page boundary) is reserved.
    Frames f({{0x3000, 0x100000}});
    f.allocator.reserve(0x10000, kPage);
    auto run = f.allocator.alloc_contiguous(4, 4);
    ASSERT_TRUE(run.has_value());
    EXPECT_EQ(run.value(), 0x4000u);
    auto aligned16 = f.allocator.alloc_contiguous(3, 16);
    ASSERT_TRUE(aligned16.has_value());
    EXPECT_EQ(aligned16.value(), 0x20000u);  // 0x10000 is blocked by the reservation
    for (uint64_t a = aligned16.value(); a < aligned16.value() + 3 * kPage; a += kPage)
        EXPECT_EQ(f.allocator.state(a), FrameState::Allocated);
    // The frames before the aligned run are still free for single allocations.
    EXPECT_EQ(f.allocator.alloc().value(), 0x3000u);
    EXPECT_EQ(f.allocator.alloc().value(), 0x8000u);
    ASSERT_FALSE(f.allocator.free_contiguous(aligned16.value(), 3).is_error());
    EXPECT_EQ(f.allocator.state(aligned16.value() + 2 * kPage), FrameState::Free);
}

TEST(FrameAllocator, ContiguousSkipsFragmentedSpace) {
    Frames f({{0x1000, 64 * kPage}});
    std::vector<uint64_t> frames;
    for (int i = 0; i < 64; ++i) frames.push_back(f.allocator.alloc().value());
    // Free every other frame, then a run of three at pages 40..42.
    for (int i = 0; i < 64; i += 2) ASSERT_FALSE(f.allocator.free(frames[i]).is_error());
    ASSERT_FALSE(f.allocator.free(frames[41]).is_error());
    auto run = f.allocator.alloc_contiguous(3);
    ASSERT_TRUE(run.has_value());
    EXPECT_EQ(run.value(), frames[40]);
    auto none = f.allocator.alloc_contiguous(2);
    ASSERT_TRUE(none.is_error());
    EXPECT_EQ(none.error(), Errno::NoMem);
}

TEST(FrameAllocator, ContiguousArgumentErrors) {
    Frames f({{0x1000, 0x10000}});
    EXPECT_EQ(f.allocator.alloc_contiguous(0).error(), Errno::Inval);
    EXPECT_EQ(f.allocator.alloc_contiguous(2, 0).error(), Errno::Inval);
    EXPECT_EQ(f.allocator.alloc_contiguous(2, 3).error(), Errno::Inval);
    EXPECT_EQ(f.allocator.alloc_contiguous(17).error(), Errno::NoMem);
    EXPECT_EQ(f.allocator.alloc_contiguous(2, uint64_t(1) << 40).error(), Errno::NoMem);
    EXPECT_EQ(f.allocator.alloc_contiguous(16).value(), 0x1000u);
}

TEST(FrameAllocator, InitRejectsBadStorageAndEmptyMaps) {
    std::vector<PhysRegion> regions = {{0x1000, 0x100000}};
    size_t bytes = FrameAllocator::storage_bytes_needed(regions);
    // 256 pages: four words per bitmap, three bitmaps, one word of ready bits.
    EXPECT_EQ(bytes, (3 * 4 + 1) * sizeof(uint64_t));
    std::vector<uint64_t> storage(bytes / 8 + 1);
    auto* raw = reinterpret_cast<std::byte*>(storage.data());
    FrameAllocator allocator;
    EXPECT_EQ(allocator.init(regions, {raw, bytes - 1}).error(), Errno::Inval);
    EXPECT_EQ(allocator.init(regions, {raw + 1, bytes}).error(), Errno::Inval);
    std::vector<PhysRegion> tiny = {{0x1800, 0x1000}, {0x0, 0x800}};
    EXPECT_EQ(FrameAllocator::storage_bytes_needed(tiny), 0u);
    EXPECT_EQ(allocator.init(tiny, {raw, bytes}).error(), Errno::NoMem);
    EXPECT_EQ(allocator.init({}, {raw, bytes}).error(), Errno::NoMem);
    EXPECT_FALSE(allocator.init(regions, {raw, bytes}).is_error());
    EXPECT_EQ(allocator.total_frames(), 256u);
}

// The storage is handed over full of garbage (as RAM is): nothing may read it before writing.
TEST(FrameAllocator, StorageContentsDoNotMatter) {
    std::vector<PhysRegion> regions = {{0x1000, 300 * kPage}, {0x200000, 10 * kPage}};
    size_t bytes = FrameAllocator::storage_bytes_needed(regions);
    std::vector<uint64_t> storage(bytes / 8, ~uint64_t(0));
    FrameAllocator allocator;
    ASSERT_FALSE(allocator.init(regions, {reinterpret_cast<std::byte*>(storage.data()), bytes})
                     .is_error());
    EXPECT_EQ(allocator.state(0x1000 + 299 * kPage), FrameState::Free);
    EXPECT_EQ(allocator.state(0x1000 + 300 * kPage), FrameState::Unmanaged);
    std::set<uint64_t> expected = pages(0x1000, 0x1000 + 300 * kPage);
    for (uint64_t a : pages(0x200000, 0x200000 + 10 * kPage)) expected.insert(a);
    EXPECT_EQ(drain(allocator), expected);
}

TEST(FrameAllocator, PristineUntilFreed) {
    Frames f({{0x1000, 8 * kPage}});
    bool pristine = false;
    uint64_t a = f.allocator.alloc(&pristine).value();
    EXPECT_TRUE(pristine);
    uint64_t run = f.allocator.alloc_contiguous(3, 1, &pristine).value();
    EXPECT_TRUE(pristine);
    ASSERT_FALSE(f.allocator.free(a).is_error());
    EXPECT_EQ(f.allocator.alloc(&pristine).value(), a);
    EXPECT_FALSE(pristine) << "a freed frame holds its last owner's data";
    ASSERT_FALSE(f.allocator.free_contiguous(run + kPage, 1).is_error());
    EXPECT_EQ(f.allocator.alloc_contiguous(4, 1, &pristine).value(), run + 3 * kPage);
    EXPECT_TRUE(pristine);  // the run past the freed frame
    EXPECT_EQ(f.allocator.alloc(&pristine).value(), run + kPage);
    EXPECT_FALSE(pristine);
}

TEST(FrameAllocator, OverlappingAndTouchingRegionsMerge) {
    std::vector<PhysRegion> regions;
    for (int i = 0; i < 100; ++i) regions.push_back({0x1000 + uint64_t(i) * kPage, 2 * kPage});
    Frames f(regions);
    EXPECT_EQ(f.allocator.total_frames(), 101u);  // 100 overlapping spans: one region
    std::vector<PhysRegion> apart;
    for (int i = 0; i < 65; ++i) apart.push_back({0x1000 + uint64_t(i) * 2 * kPage, kPage});
    std::vector<uint64_t> storage(FrameAllocator::storage_bytes_needed(apart) / 8);
    FrameAllocator allocator;
    auto too_many =
        allocator.init(apart, {reinterpret_cast<std::byte*>(storage.data()), storage.size() * 8});
    ASSERT_TRUE(too_many.is_error());
    EXPECT_EQ(too_many.error(), Errno::Inval);
}

// Random allocs, contiguous allocs and frees against a model of which frames are out.
TEST(FrameAllocator, RandomizedAgainstModel) {
    std::mt19937_64 rng(12345);
    std::vector<PhysRegion> regions = {
        {0x3000, 200 * kPage + 0x123}, {0x400000, 90 * kPage}, {0x80000, 40 * kPage}};
    Frames f(regions);
    f.allocator.reserve(0x400000 + 10 * kPage, 5 * kPage);
    std::set<uint64_t> usable;
    for (const auto& r : regions)
        for (uint64_t a = lib::align_up(r.base, kPage).value(); a + kPage <= r.base + r.length;
             a += kPage)
            if (a < 0x400000 + 10 * kPage || a >= 0x400000 + 15 * kPage) usable.insert(a);
    ASSERT_EQ(f.allocator.total_frames(), usable.size());
    std::set<uint64_t> out;
    std::vector<std::pair<uint64_t, size_t>> runs;
    for (int step = 0; step < 20000; ++step) {
        int op = int(rng() % 4);
        if (op == 0) {
            auto frame = f.allocator.alloc();
            if (out.size() == usable.size()) {
                ASSERT_TRUE(frame.is_error());
                continue;
            }
            ASSERT_TRUE(frame.has_value());
            // Lowest free frame first.
            uint64_t expected = 0;
            for (uint64_t a : usable)
                if (!out.count(a)) {
                    expected = a;
                    break;
                }
            ASSERT_EQ(frame.value(), expected);
            out.insert(frame.value());
            runs.push_back({frame.value(), 1});
        } else if (op == 1) {
            size_t count = 1 + rng() % 6, align = size_t(1) << (rng() % 4);
            auto run = f.allocator.alloc_contiguous(count, align);
            if (run.is_error()) continue;
            ASSERT_EQ((run.value() >> kPageShift) % align, 0u);
            for (size_t i = 0; i < count; ++i) {
                uint64_t a = run.value() + i * kPage;
                ASSERT_TRUE(usable.count(a));
                ASSERT_TRUE(out.insert(a).second);
            }
            runs.push_back({run.value(), count});
        } else if (!runs.empty()) {
            size_t pick = rng() % runs.size();
            auto [addr, count] = runs[pick];
            runs.erase(runs.begin() + long(pick));
            ASSERT_FALSE(f.allocator.free_contiguous(addr, count).is_error());
            for (size_t i = 0; i < count; ++i) out.erase(addr + i * kPage);
            ASSERT_TRUE(f.allocator.free(addr).is_error());  // and never twice
        }
        ASSERT_EQ(f.allocator.free_frames(), usable.size() - out.size());
    }
}

}  // namespace
