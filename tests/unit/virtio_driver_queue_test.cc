// The driver side of a split virtqueue, with the test playing the device by hand: reading the
// descriptor table and driver area, writing the device area, and lying in it.
#include "lib/virtio/driver_queue.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace {

using lib::Errno;
using lib::virtio::DriverBuffer;
using lib::virtio::DriverQueue;
using lib::virtio::VirtqDesc;

constexpr uint64_t kDeviceBase = 0x4000'0000;

// Device addresses are offsets into one arena, moved up by kDeviceBase; memory outside the
// arena cannot be given to the device.
class ArenaDma final : public lib::virtio::DmaTranslator {
public:
    explicit ArenaDma(std::span<std::byte> arena) : m_arena(arena) {}
    lib::Result<uint64_t> device_address(const void* data, size_t length) const override {
        auto p = reinterpret_cast<uintptr_t>(data), base = reinterpret_cast<uintptr_t>(m_arena.data());
        if (p < base || p - base > m_arena.size() || length > m_arena.size() - (p - base))
            return Errno::Fault;
        return kDeviceBase + (p - base);
    }

private:
    std::span<std::byte> m_arena;
};

class DriverQueueTest : public ::testing::Test {
protected:
    static constexpr uint16_t kSize = 8;

    void SetUp() override {
        ASSERT_FALSE(queue.init(kSize, ring(), dma).is_error());
    }
    std::span<std::byte> ring() { return {arena, DriverQueue::ring_bytes(kSize)}; }
    std::byte* buffer(size_t i) { return arena + 1024 + i * 64; }  // 64-byte buffers

    // The device's view, through the addresses the driver gave it.
    std::byte* at(uint64_t device_address) { return arena + (device_address - kDeviceBase); }
    VirtqDesc desc(uint16_t i) {
        VirtqDesc d;
        std::memcpy(&d, at(queue.desc_address()) + i * sizeof(VirtqDesc), sizeof(d));
        return d;
    }
    uint16_t avail_u16(size_t index) {  // 0: flags, 1: idx, 2 + i: ring[i]
        uint16_t v;
        std::memcpy(&v, at(queue.driver_address()) + index * 2, 2);
        return v;
    }
    void write_used_flags(uint16_t flags) { std::memcpy(at(queue.device_address()), &flags, 2); }
    void write_used_idx(uint16_t idx) { std::memcpy(at(queue.device_address()) + 2, &idx, 2); }
    // Returns a chain the way a device does: the element, then the index.
    void complete(uint32_t id, uint32_t len) {
        uint32_t elem[2] = {id, len};
        std::memcpy(at(queue.device_address()) + 4 + (m_used_idx % kSize) * 8, elem, 8);
        write_used_idx(++m_used_idx);
    }
    uint16_t add_one(bool writable = true, uint32_t length = 64) {
        DriverBuffer b{buffer(0), length, writable};
        auto head = queue.add({&b, 1});
        EXPECT_TRUE(head.has_value());
        return head.value_or(0xffff);
    }

    alignas(16) std::byte arena[8192] = {};
    ArenaDma dma{{arena, sizeof(arena)}};
    DriverQueue queue;
    uint16_t m_used_idx = 0;
};

TEST(DriverQueueLayout, RingBytesFollowTheSpecAlignment) {
    EXPECT_EQ(DriverQueue::ring_bytes(0), 0u);
    EXPECT_EQ(DriverQueue::ring_bytes(3), 0u);
    EXPECT_EQ(DriverQueue::ring_bytes(512), 0u) << "past kMaxSize";
    // 8 * 16 descriptor bytes, driver area 4 + 16 + 2 (ends at 150, device area aligned to
    // 152), device area 4 + 64 + 2.
    EXPECT_EQ(DriverQueue::ring_bytes(8), 152u + 70u);
    EXPECT_EQ(DriverQueue::ring_bytes(1), 16u + 8u + 14u);
}

TEST(DriverQueueLayout, InitChecksSizeMemoryAndAlignment) {
    alignas(16) static std::byte arena[4096];
    ArenaDma dma{{arena, sizeof(arena)}};
    DriverQueue q;
    EXPECT_EQ(q.init(6, {arena, sizeof(arena)}, dma).error(), Errno::Inval);
    EXPECT_EQ(q.init(8, {arena, DriverQueue::ring_bytes(8) - 1}, dma).error(), Errno::Inval);
    EXPECT_EQ(q.init(8, {arena + 8, 1024}, dma).error(), Errno::Inval);
    alignas(16) static std::byte outside[1024];
    EXPECT_EQ(q.init(8, {outside, sizeof(outside)}, dma).error(), Errno::Fault);
    ASSERT_FALSE(q.init(8, {arena, sizeof(arena)}, dma).is_error());
    EXPECT_EQ(q.size(), 8);
    EXPECT_EQ(q.free_count(), 8);
    EXPECT_EQ(q.desc_address(), kDeviceBase);
    EXPECT_EQ(q.driver_address(), kDeviceBase + 128);
    EXPECT_EQ(q.device_address(), kDeviceBase + 152);
}

// 2.7.2 legacy: desc at 0, avail right after, used at the next 4096 boundary; both parts
// rounded up to 4096 in the total.
TEST(DriverQueueLayout, LegacyLayoutPutsTheUsedRingOnAPageBoundary) {
    using lib::virtio::RingLayout;
    EXPECT_EQ(DriverQueue::ring_bytes(3, RingLayout::Legacy), 0u);
    EXPECT_EQ(DriverQueue::ring_bytes(8, RingLayout::Legacy), 8192u);
    // 256 entries: 4096 descriptor bytes + 518 driver-area bytes -> used at 8192, 2054 bytes.
    EXPECT_EQ(DriverQueue::ring_bytes(256, RingLayout::Legacy), 8192u + 4096u);

    alignas(4096) static std::byte arena[3 * 4096];
    ArenaDma dma{{arena, sizeof(arena)}};
    DriverQueue q;
    EXPECT_EQ(q.init(8, {arena, 8191}, dma, RingLayout::Legacy).error(), Errno::Inval);
    EXPECT_EQ(q.init(8, {arena + 16, 8192}, dma, RingLayout::Legacy).error(), Errno::Inval)
        << "16-byte alignment is not enough";
    ASSERT_FALSE(q.init(8, {arena, 8192}, dma, RingLayout::Legacy).is_error());
    EXPECT_EQ(q.desc_address(), kDeviceBase);
    EXPECT_EQ(q.driver_address(), kDeviceBase + 128);
    EXPECT_EQ(q.device_address(), kDeviceBase + 4096);
    ASSERT_FALSE(q.init(256, {arena, sizeof(arena)}, dma, RingLayout::Legacy).is_error());
    EXPECT_EQ(q.driver_address(), kDeviceBase + 4096);
    EXPECT_EQ(q.device_address(), kDeviceBase + 8192);
}

// A device translating with a 16-aligned offset cannot take a legacy ring: its page number
// would name different memory.
TEST(DriverQueueLayout, LegacyLayoutNeedsAPageAlignedDeviceAddress) {
    alignas(4096) static std::byte arena[3 * 4096];
    class ShiftedDma final : public lib::virtio::DmaTranslator {
    public:
        lib::Result<uint64_t> device_address(const void* data, size_t) const override {
            return reinterpret_cast<uintptr_t>(data) - reinterpret_cast<uintptr_t>(arena) + 0x10;
        }
    } shifted;
    DriverQueue q;
    EXPECT_EQ(q.init(8, {arena, 8192}, shifted, lib::virtio::RingLayout::Legacy).error(),
              Errno::Inval);
    EXPECT_FALSE(q.init(8, {arena, 8192}, shifted).is_error()) << "fine for the modern layout";
}

// The legacy ring works like the modern one once set up: a chain out, its element back.
TEST(DriverQueueLayout, LegacyRingCarriesAChain) {
    alignas(4096) static std::byte arena[4 * 4096];
    ArenaDma dma{{arena, sizeof(arena)}};
    DriverQueue q;
    ASSERT_FALSE(q.init(8, {arena, 8192}, dma, lib::virtio::RingLayout::Legacy).is_error());
    DriverBuffer b{arena + 3 * 4096, 64, true};
    uint16_t head = q.add({&b, 1}).value();
    uint16_t avail[3];
    std::memcpy(avail, arena + 128, sizeof(avail));
    EXPECT_EQ(avail[1], 1) << "avail idx";
    EXPECT_EQ(avail[2], head);
    uint32_t elem[2] = {head, 64};
    std::memcpy(arena + 4096 + 4, elem, sizeof(elem));
    uint16_t used_idx = 1;
    std::memcpy(arena + 4096 + 2, &used_idx, 2);
    auto used = q.poll_used();
    ASSERT_TRUE(used.has_value() && used.value().has_value());
    EXPECT_EQ(used.value()->id, head);
    EXPECT_EQ(used.value()->length, 64u);
}

TEST_F(DriverQueueTest, AddPublishesAChainReadableThenWritable) {
    DriverBuffer chain[] = {{buffer(0), 16, false}, {buffer(1), 64, true}, {buffer(2), 8, true}};
    auto head = queue.add(chain);
    ASSERT_TRUE(head.has_value());
    EXPECT_EQ(queue.free_count(), kSize - 3);
    EXPECT_EQ(queue.in_flight(), 1);
    EXPECT_EQ(avail_u16(1), 1) << "avail idx";
    EXPECT_EQ(avail_u16(2), head.value()) << "avail ring[0]";

    VirtqDesc d = desc(head.value());
    EXPECT_EQ(d.addr, kDeviceBase + 1024);
    EXPECT_EQ(d.len, 16u);
    EXPECT_EQ(d.flags, lib::virtio::kDescNext);
    VirtqDesc d1 = desc(d.next);
    EXPECT_EQ(d1.addr, kDeviceBase + 1024 + 64);
    EXPECT_EQ(d1.flags, lib::virtio::kDescNext | lib::virtio::kDescWrite);
    VirtqDesc d2 = desc(d1.next);
    EXPECT_EQ(d2.len, 8u);
    EXPECT_EQ(d2.flags, lib::virtio::kDescWrite) << "last: no NEXT";

    complete(head.value(), 72);
    auto used = queue.poll_used();
    ASSERT_TRUE(used.has_value());
    ASSERT_TRUE(used.value().has_value());
    EXPECT_EQ(used.value()->id, head.value());
    EXPECT_EQ(used.value()->length, 72u);
    EXPECT_EQ(queue.free_count(), kSize);
    EXPECT_EQ(queue.in_flight(), 0);
    EXPECT_FALSE(queue.poll_used().value().has_value()) << "nothing new";
}

TEST_F(DriverQueueTest, BadChainsChangeNothing) {
    DriverBuffer empty_buffer[] = {{buffer(0), 0, true}};
    DriverBuffer read_after_write[] = {{buffer(0), 8, true}, {buffer(1), 8, false}};
    DriverBuffer outside[] = {{buffer(0), 8, false}, {&empty_buffer, 8, true}};
    DriverBuffer too_long[] = {{buffer(0), 0x8000'0000, true}, {buffer(1), 0x8000'0000, true}};
    std::vector<DriverBuffer> too_many(kSize + 1, DriverBuffer{buffer(0), 8, true});
    EXPECT_EQ(queue.add({}).error(), Errno::Inval);
    EXPECT_EQ(queue.add(empty_buffer).error(), Errno::Inval);
    EXPECT_EQ(queue.add(read_after_write).error(), Errno::Inval);
    EXPECT_EQ(queue.add(outside).error(), Errno::Fault);
    EXPECT_EQ(queue.add(too_long).error(), Errno::Inval);
    EXPECT_EQ(queue.add(too_many).error(), Errno::NoSpc);
    EXPECT_EQ(queue.free_count(), kSize);
    EXPECT_EQ(queue.in_flight(), 0);
    EXPECT_EQ(avail_u16(1), 0) << "nothing published";
    EXPECT_FALSE(queue.needs_notify());
}

TEST_F(DriverQueueTest, ExhaustsAndReusesDescriptorsOutOfOrder) {
    std::vector<uint16_t> heads;
    for (int i = 0; i < kSize; ++i) heads.push_back(add_one());
    DriverBuffer b{buffer(0), 8, true};
    EXPECT_EQ(queue.add({&b, 1}).error(), Errno::NoSpc);
    complete(heads[5], 1);
    complete(heads[2], 2);
    EXPECT_EQ(queue.poll_used().value()->id, heads[5]);
    EXPECT_EQ(queue.poll_used().value()->id, heads[2]);
    EXPECT_EQ(queue.free_count(), 2);
    DriverBuffer two[] = {{buffer(0), 8, false}, {buffer(1), 8, true}};
    auto head = queue.add(two);
    ASSERT_TRUE(head.has_value());
    EXPECT_TRUE(head.value() == heads[5] || head.value() == heads[2]);
    EXPECT_EQ(queue.free_count(), 0);
}

TEST_F(DriverQueueTest, IndicesWrapAroundSixteenBits) {
    for (uint32_t i = 0; i < 70000; ++i) {
        uint16_t head = add_one();
        complete(head, 64);
        auto used = queue.poll_used();
        ASSERT_TRUE(used.has_value() && used.value().has_value()) << i;
        ASSERT_EQ(used.value()->id, head);
    }
    EXPECT_EQ(queue.free_count(), kSize);
    EXPECT_EQ(avail_u16(1), uint16_t(70000));
}

TEST_F(DriverQueueTest, NotifiesUnlessTheDeviceSaysNot) {
    EXPECT_FALSE(queue.needs_notify()) << "nothing added";
    add_one();
    add_one();
    EXPECT_TRUE(queue.needs_notify());
    EXPECT_FALSE(queue.needs_notify()) << "once per batch";
    write_used_flags(lib::virtio::kUsedNoNotify);
    add_one();
    EXPECT_FALSE(queue.needs_notify());
}

TEST_F(DriverQueueTest, SuppressInterruptsSetsTheDriverFlag) {
    queue.suppress_interrupts(true);
    EXPECT_EQ(avail_u16(0), lib::virtio::kAvailNoInterrupt);
    queue.suppress_interrupts(false);
    EXPECT_EQ(avail_u16(0), 0);
}

// A lying device breaks the queue for good: every later call fails with Io.
void expect_broken(DriverQueue& queue, std::byte* buffer) {
    EXPECT_TRUE(queue.broken());
    EXPECT_EQ(queue.poll_used().error(), Errno::Io);
    DriverBuffer b{buffer, 8, true};
    EXPECT_EQ(queue.add({&b, 1}).error(), Errno::Io);
}

TEST_F(DriverQueueTest, LyingDeviceIdOutOfRange) {
    add_one();
    complete(kSize, 8);
    EXPECT_EQ(queue.poll_used().error(), Errno::Io);
    expect_broken(queue, buffer(0));
}

TEST_F(DriverQueueTest, LyingDeviceIdNotInFlight) {
    DriverBuffer two[] = {{buffer(0), 8, false}, {buffer(1), 8, true}};
    uint16_t head = queue.add(two).value();
    complete(desc(head).next, 8);  // the second descriptor of the chain, not its head
    EXPECT_EQ(queue.poll_used().error(), Errno::Io);
    expect_broken(queue, buffer(0));
}

TEST_F(DriverQueueTest, LyingDeviceReturnsAChainTwice) {
    uint16_t head = add_one();
    add_one();
    complete(head, 8);
    EXPECT_EQ(queue.poll_used().value()->id, head);
    complete(head, 8);
    EXPECT_EQ(queue.poll_used().error(), Errno::Io);
    expect_broken(queue, buffer(0));
}

TEST_F(DriverQueueTest, LyingDeviceLengthPastTheWritableBuffers) {
    DriverBuffer chain[] = {{buffer(0), 32, false}, {buffer(1), 16, true}};
    uint16_t head = queue.add(chain).value();
    complete(head, 17);  // the readable 32 bytes do not count
    EXPECT_EQ(queue.poll_used().error(), Errno::Io);
    expect_broken(queue, buffer(0));
}

TEST_F(DriverQueueTest, LyingDeviceWritesToAReadOnlyChain) {
    uint16_t head = add_one(/*writable=*/false);
    complete(head, 1);
    EXPECT_EQ(queue.poll_used().error(), Errno::Io);
    complete(head, 0);  // too late: the queue is broken
    expect_broken(queue, buffer(0));
}

TEST_F(DriverQueueTest, LyingDeviceUsedIndexJumps) {
    uint16_t head = add_one();
    complete(head, 8);
    write_used_idx(5);  // five returned, one in flight
    EXPECT_EQ(queue.poll_used().error(), Errno::Io);
    expect_broken(queue, buffer(0));
}

TEST_F(DriverQueueTest, LyingDeviceUsedIndexGoesBackwards) {
    uint16_t head = add_one();
    complete(head, 8);
    ASSERT_TRUE(queue.poll_used().value().has_value());
    write_used_idx(0);  // 0 - 1 = 65535 "new" entries
    EXPECT_EQ(queue.poll_used().error(), Errno::Io);
    expect_broken(queue, buffer(0));
}

TEST_F(DriverQueueTest, ReadOnlyChainCompletesWithZeroLength) {
    uint16_t head = add_one(/*writable=*/false);
    complete(head, 0);
    auto used = queue.poll_used();
    ASSERT_TRUE(used.has_value() && used.value().has_value());
    EXPECT_EQ(used.value()->length, 0u);
}

}  // namespace
