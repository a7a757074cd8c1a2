// Device-side split virtqueue: valid chains, gather/scatter, and every malformed ring a hostile
// driver can write (virtio 1.2, 2.7).
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <array>
#include <cstdint>
#include <vector>

#include "tests/vmm/virtio_test_support.h"
#include "vmm/virtio/queue.h"

namespace {

using lib::Errno;
using lib::virtio::kDescIndirect;
using lib::virtio::kDescNext;
using lib::virtio::kDescWrite;
using phx_test::bit;
using phx_test::DriverRing;
using phx_test::FakeGuest;
using vmm::virtio::DescriptorChain;
using vmm::virtio::Virtqueue;

constexpr uint64_t kBase = 0x10000;
constexpr uint64_t kBuf = kBase + 0x4000;  // buffers live from here on

struct QueueTest : ::testing::Test {
    FakeGuest guest{kBase, 0x10000};
    DriverRing ring{guest, 8, kBase, kBase + 0x1000, kBase + 0x2000};
    Virtqueue queue{guest.memory, 8};

    void SetUp() override { enable(); }
    void enable(uint64_t features = 0) {
        queue.reset();
        queue.set_size(ring.size);
        queue.set_desc_addr(ring.desc);
        queue.set_avail_addr(ring.avail);
        queue.set_used_addr(ring.used);
        queue.set_features(features);
        ASSERT_FALSE(queue.enable().is_error());
    }
    DescriptorChain pop_ok() {
        auto chain = queue.pop();
        EXPECT_FALSE(chain.is_error()) << lib::errno_name(chain.error());
        if (chain.is_error() || !chain.value()) {
            ADD_FAILURE() << "no chain";
            return {};
        }
        return *chain.value();
    }
    Errno pop_error() {
        uint16_t before = queue.last_avail_idx();
        auto chain = queue.pop();
        EXPECT_TRUE(chain.is_error());
        EXPECT_EQ(queue.last_avail_idx(), before);  // a refused chain is never consumed
        return chain.is_error() ? chain.error() : Errno{};
    }
    bool empty() {
        auto chain = queue.pop();
        return !chain.is_error() && !chain.value();
    }
};

TEST_F(QueueTest, PopsAReadableThenWritableChainAndPushesUsed) {
    EXPECT_TRUE(empty());
    ring.set_desc(3, kBuf, 16, kDescNext, 5);
    ring.set_desc(5, kBuf + 0x100, 32, kDescNext | kDescWrite, 1);
    ring.set_desc(1, kBuf + 0x200, 8, kDescWrite);
    ring.offer(3);
    DescriptorChain chain = pop_ok();
    EXPECT_EQ(chain.head, 3);
    ASSERT_EQ(chain.readable.size(), 1u);
    EXPECT_EQ(chain.readable[0].gpa, kBuf);
    EXPECT_EQ(chain.readable[0].len, 16u);
    ASSERT_EQ(chain.writable.size(), 2u);
    EXPECT_EQ(chain.writable[0].gpa, kBuf + 0x100);
    EXPECT_EQ(chain.writable[1].len, 8u);
    EXPECT_EQ(chain.readable_bytes(), 16u);
    EXPECT_EQ(chain.writable_bytes(), 40u);
    EXPECT_TRUE(empty());

    ASSERT_FALSE(queue.push_used(3, 40).is_error());
    EXPECT_EQ(ring.used_idx(), 1);
    EXPECT_EQ(ring.used_elem(0).id, 3u);
    EXPECT_EQ(ring.used_elem(0).len, 40u);
    EXPECT_TRUE(queue.push_used(8, 0).is_error());  // head out of range
}

TEST_F(QueueTest, GatherAndScatterStayInsideTheBuffers) {
    ring.set_desc(0, kBuf, 3, kDescNext, 1);
    ring.set_desc(1, kBuf + 0x10, 5, kDescNext, 2);
    ring.set_desc(2, kBuf + 0x100, 4, kDescWrite | kDescNext, 3);
    ring.set_desc(3, kBuf + 0x110, 4, kDescWrite);
    for (int i = 0; i < 3; ++i) guest.put<uint8_t>(kBuf + i, uint8_t(0xa0 + i));
    for (int i = 0; i < 5; ++i) guest.put<uint8_t>(kBuf + 0x10 + i, uint8_t(0xb0 + i));
    ring.offer(0);
    DescriptorChain chain = pop_ok();

    std::array<std::byte, 16> out{};
    auto got = chain.read(guest.memory, out);
    ASSERT_FALSE(got.is_error());
    EXPECT_EQ(got.value(), 8u);
    EXPECT_EQ(out[2], std::byte{0xa2});
    EXPECT_EQ(out[3], std::byte{0xb0});
    EXPECT_EQ(out[7], std::byte{0xb4});
    EXPECT_EQ(out[8], std::byte{0});
    got = chain.read(guest.memory, std::span(out).first(2), 2);  // from the middle
    EXPECT_EQ(got.value(), 2u);
    EXPECT_EQ(out[0], std::byte{0xa2});
    EXPECT_EQ(out[1], std::byte{0xb0});

    std::array<std::byte, 12> in;
    in.fill(std::byte{0x5a});
    guest.put<uint8_t>(kBuf + 0x104, 0x11);  // guard right after the first writable buffer
    guest.put<uint8_t>(kBuf + 0x114, 0x22);  // and after the second
    got = chain.write(guest.memory, in);
    EXPECT_EQ(got.value(), 8u);  // bounded by the writable lengths
    EXPECT_EQ(guest.get<uint32_t>(kBuf + 0x100), 0x5a5a5a5au);
    EXPECT_EQ(guest.get<uint32_t>(kBuf + 0x110), 0x5a5a5a5au);
    EXPECT_EQ(guest.get<uint8_t>(kBuf + 0x104), 0x11);
    EXPECT_EQ(guest.get<uint8_t>(kBuf + 0x114), 0x22);
    got = chain.write(guest.memory, in, 6);
    EXPECT_EQ(got.value(), 2u);
    got = chain.write(guest.memory, in, 100);
    EXPECT_EQ(got.value(), 0u);
}

TEST_F(QueueTest, BufferAtTheLastByteOfRamIsAcceptedOneBytePastIsNot) {
    ring.set_desc(0, guest.end() - 1, 1, kDescWrite);
    ring.offer(0);
    DescriptorChain chain = pop_ok();
    ASSERT_EQ(chain.writable.size(), 1u);
    EXPECT_EQ(chain.writable[0].gpa, guest.end() - 1);

    ring.set_desc(0, guest.end() - 1, 2, kDescWrite);
    ring.offer(0);
    EXPECT_EQ(pop_error(), Errno::Fault);
    ring.set_desc(0, guest.end(), 1, kDescWrite);
    EXPECT_EQ(pop_error(), Errno::Fault);
}

TEST_F(QueueTest, RefusesBuffersOutsideRamOrWrapping) {
    ring.offer(0);
    for (uint64_t addr : {uint64_t(0), kBase - 1, guest.end() + 0x1000, UINT64_MAX - 7}) {
        ring.set_desc(0, addr, 16);
        EXPECT_EQ(pop_error(), Errno::Fault) << std::hex << addr;
    }
    ring.set_desc(0, kBuf, UINT32_MAX);  // oversized: runs far past RAM
    EXPECT_EQ(pop_error(), Errno::Fault);
    ring.set_desc(0, kBuf, 16, kDescNext, 1);  // a bad buffer later in the chain
    ring.set_desc(1, UINT64_MAX, 2, kDescWrite);
    EXPECT_EQ(pop_error(), Errno::Fault);
}

TEST_F(QueueTest, RefusesNextChainLoops) {
    ring.offer(2);
    ring.set_desc(2, kBuf, 4, kDescNext, 2);  // self-loop
    EXPECT_EQ(pop_error(), Errno::Loop);
    ring.set_desc(2, kBuf, 4, kDescNext, 4);  // 2 -> 4 -> 6 -> 2
    ring.set_desc(4, kBuf, 4, kDescNext, 6);
    ring.set_desc(6, kBuf, 4, kDescNext, 2);
    EXPECT_EQ(pop_error(), Errno::Loop);
}

TEST_F(QueueTest, AcceptsAChainAsLongAsTheQueueAndNoLonger) {
    for (uint16_t i = 0; i < 8; ++i) ring.set_desc(i, kBuf + i, 1, kDescNext, uint16_t(i + 1));
    ring.set_desc(7, kBuf + 7, 1);
    ring.offer(0);
    EXPECT_EQ(pop_ok().readable.size(), 8u);
    ring.set_desc(7, kBuf + 7, 1, kDescNext, 0);  // now a loop through all eight
    ring.offer(0);
    EXPECT_EQ(pop_error(), Errno::Loop);
}

TEST_F(QueueTest, RefusesIndicesOutOfRange) {
    ring.offer(8);  // head == size
    EXPECT_EQ(pop_error(), Errno::Inval);
    ring.set_avail_idx(0);
    ring.offer(0xffff);
    EXPECT_EQ(pop_error(), Errno::Inval);
    ring.set_avail_idx(0);
    ring.offer(0);
    ring.set_desc(0, kBuf, 4, kDescNext, 8);  // next == size
    EXPECT_EQ(pop_error(), Errno::Inval);
}

TEST_F(QueueTest, RefusesAvailIdxRacingAhead) {
    for (uint16_t i = 0; i < 8; ++i) ring.set_desc(i, kBuf, 1);
    ring.set_avail_idx(9);  // more than one ring's worth
    EXPECT_EQ(pop_error(), Errno::Inval);
    ring.set_avail_idx(0xffff);
    EXPECT_EQ(pop_error(), Errno::Inval);
    ring.set_avail_idx(8);  // exactly a full ring is fine
    for (int i = 0; i < 8; ++i) pop_ok();
    EXPECT_TRUE(empty());
}

TEST_F(QueueTest, RefusesReadableAfterWritable) {
    ring.set_desc(0, kBuf, 4, kDescWrite | kDescNext, 1);
    ring.set_desc(1, kBuf, 4, 0);
    ring.offer(0);
    EXPECT_EQ(pop_error(), Errno::Inval);
}

TEST_F(QueueTest, IndicesWrapAroundSixteenBits) {
    ring.set_desc(0, kBuf, 4, kDescWrite);
    for (uint32_t n = 0; n < 70000; ++n) {
        ring.offer(0);
        DescriptorChain chain = pop_ok();
        ASSERT_EQ(chain.head, 0);
        ASSERT_FALSE(queue.push_used(0, n).is_error());
    }
    EXPECT_EQ(queue.last_avail_idx(), uint16_t(70000));
    EXPECT_EQ(ring.used_idx(), uint16_t(70000));
    EXPECT_EQ(ring.used_elem(uint16_t(69999)).len, 69999u);
}

// Indirect descriptors (2.7.5.3).
struct IndirectTest : QueueTest {
    static constexpr uint64_t kTable = kBase + 0x3000;
    void SetUp() override { enable(bit(lib::virtio::kFeatureIndirectDesc)); }
    void set_entry(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags = 0, uint16_t next = 0) {
        guest.put(kTable + uint64_t(i) * 16, lib::virtio::VirtqDesc{addr, len, flags, next});
    }
};

TEST_F(IndirectTest, FollowsATableAfterNormalDescriptors) {
    ring.set_desc(4, kBuf, 10, kDescNext, 6);
    ring.set_desc(6, kTable, 3 * 16, kDescIndirect | kDescWrite);  // WRITE here is ignored
    set_entry(0, kBuf + 0x100, 20, kDescNext, 2);
    set_entry(2, kBuf + 0x200, 30, kDescWrite | kDescNext, 1);
    set_entry(1, kBuf + 0x300, 40, kDescWrite);
    ring.offer(4);
    DescriptorChain chain = pop_ok();
    EXPECT_EQ(chain.head, 4);
    ASSERT_EQ(chain.readable.size(), 2u);
    EXPECT_EQ(chain.readable[1].gpa, kBuf + 0x100);
    ASSERT_EQ(chain.writable.size(), 2u);
    EXPECT_EQ(chain.writable[0].len, 30u);
    EXPECT_EQ(chain.writable[1].gpa, kBuf + 0x300);
}

TEST_F(IndirectTest, RefusedWithoutTheFeature) {
    enable(0);
    ring.set_desc(0, kTable, 16, kDescIndirect);
    set_entry(0, kBuf, 4);
    ring.offer(0);
    EXPECT_EQ(pop_error(), Errno::Inval);
}

TEST_F(IndirectTest, RefusesIndirectWithNextAndNestedTables) {
    ring.offer(0);
    set_entry(0, kBuf, 4);
    ring.set_desc(0, kTable, 16, kDescIndirect | kDescNext, 1);
    ring.set_desc(1, kBuf, 4);
    EXPECT_EQ(pop_error(), Errno::Inval);
    ring.set_desc(0, kTable, 32, kDescIndirect);
    set_entry(0, kBuf, 4, kDescNext, 1);
    set_entry(1, kTable, 32, kDescIndirect);  // a table inside a table
    EXPECT_EQ(pop_error(), Errno::Inval);
}

TEST_F(IndirectTest, RefusesBadTableLengthsAndPlaces) {
    ring.offer(0);
    for (uint32_t len : {0u, 8u, 17u, 9u * 16u, UINT32_MAX}) {  // empty, ragged, > queue size
        ring.set_desc(0, kTable, len, kDescIndirect);
        auto chain = queue.pop();
        EXPECT_TRUE(chain.is_error()) << len;
    }
    ring.set_desc(0, guest.end() - 16, 32, kDescIndirect);  // half outside RAM
    EXPECT_EQ(pop_error(), Errno::Fault);
    ring.set_desc(0, UINT64_MAX - 15, 32, kDescIndirect);  // wraps
    EXPECT_EQ(pop_error(), Errno::Fault);
    ring.set_desc(0, guest.end() - 16, 16, kDescIndirect);  // the last 16 bytes: fine
    guest.put(guest.end() - 16, lib::virtio::VirtqDesc{kBuf, 4, 0, 0});
    EXPECT_EQ(pop_ok().readable.size(), 1u);
}

TEST_F(IndirectTest, RefusesLoopsAndBadNextInsideTheTable) {
    ring.offer(0);
    ring.set_desc(0, kTable, 4 * 16, kDescIndirect);
    set_entry(0, kBuf, 4, kDescNext, 0);  // self-loop
    EXPECT_EQ(pop_error(), Errno::Loop);
    set_entry(0, kBuf, 4, kDescNext, 3);  // 0 -> 3 -> 1 -> 0
    set_entry(3, kBuf, 4, kDescNext, 1);
    set_entry(1, kBuf, 4, kDescNext, 0);
    EXPECT_EQ(pop_error(), Errno::Loop);
    set_entry(1, kBuf, 4, kDescNext, 4);  // next past the table's end
    EXPECT_EQ(pop_error(), Errno::Inval);
    set_entry(1, kBuf, 4, kDescWrite | kDescNext, 2);  // then readable after writable
    set_entry(2, kBuf, 4, 0);
    EXPECT_EQ(pop_error(), Errno::Inval);
    set_entry(2, UINT64_MAX - 1, 4, kDescWrite);  // a buffer outside RAM
    EXPECT_EQ(pop_error(), Errno::Fault);
}

// The summed length must fit in used.len (2.7.5.2). Needs > 4 GiB of "RAM" in total, so this
// maps untouched, unreserved memory; only the ring pages are ever written.
TEST(QueueLengths, RefusesChainsWhoseTotalOverflowsU32) {
    constexpr uint64_t kSize = uint64_t(3) << 30;
    void* map = mmap(nullptr, kSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ASSERT_NE(map, MAP_FAILED);
    vmm::GuestMemory memory({{0, kSize, static_cast<std::byte*>(map)}});
    Virtqueue queue(memory, 4);
    queue.set_size(4);
    queue.set_desc_addr(0);
    queue.set_avail_addr(0x1000);
    queue.set_used_addr(0x2000);
    ASSERT_FALSE(queue.enable().is_error());
    auto put_desc = [&](uint16_t i, uint32_t len, uint16_t flags, uint16_t next) {
        ASSERT_FALSE(
            memory.write_obj(uint64_t(i) * 16, lib::virtio::VirtqDesc{0x10000, len, flags, next})
                .is_error());
    };
    put_desc(0, 0x80000000u, kDescNext, 1);
    put_desc(1, 0x7fffffffu, kDescWrite, 0);
    ASSERT_FALSE(memory.write_obj<uint16_t>(0x1002, 2).is_error());  // two chains offered
    auto chain = queue.pop();
    ASSERT_FALSE(chain.is_error());
    EXPECT_EQ(chain.value()->writable_bytes() + chain.value()->readable_bytes(), UINT32_MAX);
    put_desc(1, 0x80000000u, kDescWrite, 0);  // now exactly 2^32
    chain = queue.pop();
    ASSERT_TRUE(chain.is_error());
    EXPECT_EQ(chain.error(), Errno::Overflow);
    munmap(map, kSize);
}

// QueueReady-time checks (2.7.10.1 alignment; every area inside guest RAM).
TEST_F(QueueTest, EnableValidatesSizeAlignmentAndPlacement) {
    auto try_enable = [&](uint16_t size, uint64_t desc, uint64_t avail, uint64_t used) {
        queue.reset();
        queue.set_size(size);
        queue.set_desc_addr(desc);
        queue.set_avail_addr(avail);
        queue.set_used_addr(used);
        bool ok = !queue.enable().is_error();
        EXPECT_EQ(queue.ready(), ok);
        return ok;
    };
    const uint64_t d = ring.desc, a = ring.avail, u = ring.used;
    EXPECT_TRUE(try_enable(8, d, a, u));
    EXPECT_TRUE(try_enable(1, d, a, u));
    EXPECT_FALSE(try_enable(0, d, a, u));
    EXPECT_FALSE(try_enable(6, d, a, u));   // not a power of two
    EXPECT_FALSE(try_enable(16, d, a, u));  // above max
    EXPECT_FALSE(try_enable(8, d + 8, a, u));
    EXPECT_FALSE(try_enable(8, d, a + 1, u));
    EXPECT_FALSE(try_enable(8, d, a, u + 2));
    EXPECT_FALSE(try_enable(8, 0, a, u));  // below RAM
    EXPECT_FALSE(try_enable(8, d, UINT64_MAX - 1, u));
    EXPECT_FALSE(try_enable(8, d, a, guest.end()));
    // Each area may end exactly at the end of RAM, not one byte past it.
    const uint64_t avail_bytes = lib::virtio::avail_ring_bytes(8);  // 22
    EXPECT_TRUE(try_enable(8, d, guest.end() - avail_bytes, u));
    EXPECT_FALSE(try_enable(8, d, guest.end() - avail_bytes + 2, u));
    const uint64_t used_at = (guest.end() - lib::virtio::used_ring_bytes(8)) & ~uint64_t(3);
    EXPECT_TRUE(try_enable(8, d, a, used_at));
    EXPECT_FALSE(try_enable(8, d, a, used_at + 4));  // aligned, but 2 bytes past the end
    const uint64_t desc_bytes = lib::virtio::desc_table_bytes(8);
    EXPECT_TRUE(try_enable(8, guest.end() - desc_bytes, a, u));
    EXPECT_FALSE(try_enable(8, guest.end() - desc_bytes + 16, a, u));
}

TEST_F(QueueTest, NotReadyQueueHasNothingAndTakesNothing) {
    ring.set_desc(0, kBuf, 4);
    ring.offer(0);
    queue.disable();
    EXPECT_TRUE(empty());
    EXPECT_TRUE(queue.push_used(0, 0).is_error());
    EXPECT_EQ(ring.used_idx(), 0);
}

TEST_F(QueueTest, InterruptSuppressionWithoutEventIdx) {
    EXPECT_FALSE(queue.needs_interrupt());  // nothing used yet
    ASSERT_FALSE(queue.push_used(0, 0).is_error());
    EXPECT_TRUE(queue.needs_interrupt());
    EXPECT_FALSE(queue.needs_interrupt());  // already signalled
    ring.set_avail_flags(lib::virtio::kAvailNoInterrupt);
    ASSERT_FALSE(queue.push_used(0, 0).is_error());
    EXPECT_FALSE(queue.needs_interrupt());
}

TEST_F(QueueTest, InterruptSuppressionWithEventIdx) {
    enable(bit(lib::virtio::kFeatureEventIdx));
    ring.set_avail_flags(lib::virtio::kAvailNoInterrupt);  // ignored with EVENT_IDX
    ring.set_used_event(0);
    ASSERT_FALSE(queue.push_used(0, 0).is_error());  // used idx 0 -> 1 crosses event 0
    EXPECT_TRUE(queue.needs_interrupt());
    ring.set_used_event(3);                          // driver: "interrupt me once entry 3 is used"
    ASSERT_FALSE(queue.push_used(0, 0).is_error());  // -> 2
    EXPECT_FALSE(queue.needs_interrupt());
    ASSERT_FALSE(queue.push_used(0, 0).is_error());  // -> 3
    EXPECT_FALSE(queue.needs_interrupt());
    ASSERT_FALSE(queue.push_used(0, 0).is_error());  // -> 4: entry 3 now used
    EXPECT_TRUE(queue.needs_interrupt());
    ASSERT_FALSE(queue.push_used(0, 0).is_error());  // batch 4 -> 6 jumping over event 4
    ASSERT_FALSE(queue.push_used(0, 0).is_error());
    ring.set_used_event(4);
    EXPECT_TRUE(queue.needs_interrupt());
}

TEST_F(QueueTest, EventIdxPublishesAvailEventWhenDrained) {
    enable(bit(lib::virtio::kFeatureEventIdx));
    ring.set_desc(0, kBuf, 4);
    ring.offer(0);
    ring.offer(0);
    pop_ok();
    pop_ok();
    EXPECT_TRUE(empty());
    EXPECT_EQ(ring.avail_event(), 2);  // notify me when you add entry 2
}

}  // namespace
