#include "vmm/memory/guest_memory.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace {

struct TwoRegions : ::testing::Test {
    std::vector<std::byte> low = std::vector<std::byte>(0x1000);
    std::vector<std::byte> high = std::vector<std::byte>(0x2000);
    vmm::GuestMemory memory{{{0x10000, 0x2000, high.data()}, {0, 0x1000, low.data()}}};
};

TEST_F(TwoRegions, SliceInsideEachRegion) {
    auto a = memory.slice(0xff0, 0x10);
    ASSERT_FALSE(a.is_error());
    EXPECT_EQ(a.value().data(), low.data() + 0xff0);
    auto b = memory.slice(0x11fff, 1);
    ASSERT_FALSE(b.is_error());
    EXPECT_EQ(b.value().data(), high.data() + 0x1fff);
    EXPECT_EQ(memory.end(), 0x12000u);
}

TEST_F(TwoRegions, RefusesRangesCrossingOrOutsideRam) {
    EXPECT_TRUE(memory.slice(0xff0, 0x11).is_error());   // one byte past the low region
    EXPECT_TRUE(memory.slice(0x1000, 1).is_error());      // the gap
    EXPECT_TRUE(memory.slice(0x12000, 1).is_error());     // past the end
    EXPECT_TRUE(memory.slice(0xfff, 0x10000).is_error()); // spans the gap
}

TEST_F(TwoRegions, RefusesWrappingLengths) {
    EXPECT_TRUE(memory.slice(0x10, UINT64_MAX).is_error());
    EXPECT_TRUE(memory.slice(UINT64_MAX, 2).is_error());
    EXPECT_TRUE(memory.slice(0x10001, UINT64_MAX - 0x10000).is_error());
}

TEST_F(TwoRegions, ZeroLengthAtTheEndIsEmpty) {
    auto empty = memory.slice(0x1000, 0);
    ASSERT_FALSE(empty.is_error());
    EXPECT_TRUE(empty.value().empty());
}

TEST_F(TwoRegions, ObjectsRoundTrip) {
    ASSERT_FALSE(memory.write_obj<uint32_t>(0x10ffe, 0xdeadbeef).is_error());  // unaligned
    auto value = memory.read_obj<uint32_t>(0x10ffe);
    ASSERT_FALSE(value.is_error());
    EXPECT_EQ(value.value(), 0xdeadbeefu);
    EXPECT_TRUE(memory.read_obj<uint64_t>(0xffc).is_error());
    std::array<std::byte, 4> out{};
    EXPECT_TRUE(memory.read(0xffe, out).is_error());
}

}  // namespace
