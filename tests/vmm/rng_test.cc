// virtio-rng end to end: a guest driver's request through the mmio transport comes back filled
// with random bytes and the right length (virtio 1.2, 5.4).
#include "vmm/virtio/rng.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>

#include "tests/vmm/virtio_test_support.h"
#include "vmm/virtio/mmio_transport.h"

namespace {

namespace mmio = lib::virtio::mmio;
using namespace lib::virtio;
using phx_test::bit;
using phx_test::DriverRing;
using phx_test::FakeGuest;
using phx_test::FakeIrq;
using phx_test::MmioDriver;
using vmm::virtio::VirtioMmioTransport;
using vmm::virtio::VirtioRng;

constexpr uint64_t kBase = 0x100000;
constexpr uint64_t kBuf = kBase + 0x10000;

struct RngTest : ::testing::Test {
    FakeGuest guest{kBase, 0x40000};  // room for a request larger than the 64 KiB cap
    FakeIrq irq;
    VirtioMmioTransport transport{guest.memory, std::make_unique<VirtioRng>(guest.memory), irq};
    MmioDriver driver{transport};
    DriverRing ring{guest, 256, kBase, kBase + 0x1000, kBase + 0x2000};

    void SetUp() override {
        ASSERT_EQ(driver.negotiate(bit(kFeatureVersion1)),
                  kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
        driver.setup_queue(0, ring);
        driver.driver_ok();
        ASSERT_EQ(driver.read(mmio::kStatus) & kStatusDriverOk, kStatusDriverOk);
    }
    size_t distinct_bytes(uint64_t gpa, size_t len) {
        std::set<std::byte> seen(guest.host(gpa), guest.host(gpa) + len);
        return seen.size();
    }
};

TEST_F(RngTest, Identity) {
    EXPECT_EQ(driver.read(mmio::kDeviceId), 4u);
    EXPECT_EQ(driver.read(mmio::kQueueNumMax), 256u);
    driver.write(mmio::kQueueSel, 1);
    EXPECT_EQ(driver.read(mmio::kQueueNumMax), 0u);  // exactly one queue
    EXPECT_EQ(driver.device_features(), VirtioMmioTransport::kTransportFeatures);
    EXPECT_EQ(driver.read(mmio::kConfig), 0u);  // no configuration space
}

TEST_F(RngTest, FillsTheBufferAndReportsItsLength) {
    ring.set_desc(7, kBuf, 64, kDescWrite);
    guest.put<uint8_t>(kBuf + 64, 0xee);  // guard byte after the buffer
    ring.offer(7);
    driver.write(mmio::kQueueNotify, 0);
    ASSERT_EQ(ring.used_idx(), 1);
    EXPECT_EQ(ring.used_elem(0).id, 7u);
    EXPECT_EQ(ring.used_elem(0).len, 64u);
    // 64 random bytes with fewer than 16 distinct values: odds far below 2^-100.
    EXPECT_GE(distinct_bytes(kBuf, 64), 16u);
    EXPECT_EQ(guest.get<uint8_t>(kBuf + 64), 0xee);
    EXPECT_EQ(driver.read(mmio::kInterruptStatus), mmio::kInterruptUsedBuffer);
    EXPECT_TRUE(irq.level);
    driver.write(mmio::kInterruptAck, mmio::kInterruptUsedBuffer);
    EXPECT_FALSE(irq.level);
}

TEST_F(RngTest, ServesEveryPendingChainAcrossBuffers) {
    ring.set_desc(0, kBuf, 32, kDescWrite | kDescNext, 1);
    ring.set_desc(1, kBuf + 0x100, 32, kDescWrite);
    ring.set_desc(2, kBuf + 0x200, 48, kDescWrite);
    ring.offer(0);
    ring.offer(2);
    driver.write(mmio::kQueueNotify, 0);
    ASSERT_EQ(ring.used_idx(), 2);
    EXPECT_EQ(ring.used_elem(0).len, 64u);
    EXPECT_EQ(ring.used_elem(1).id, 2u);
    EXPECT_EQ(ring.used_elem(1).len, 48u);
    EXPECT_GE(distinct_bytes(kBuf + 0x100, 32), 8u);  // the second buffer was filled too
    EXPECT_GE(distinct_bytes(kBuf + 0x200, 48), 12u);
}

TEST_F(RngTest, CapsOneRequestAt64KiB) {
    ring.set_desc(0, kBuf, 0x20000, kDescWrite);
    ring.offer(0);
    driver.write(mmio::kQueueNotify, 0);
    ASSERT_EQ(ring.used_idx(), 1);
    EXPECT_EQ(ring.used_elem(0).len, VirtioRng::kMaxRequestBytes);
    EXPECT_EQ(distinct_bytes(kBuf + VirtioRng::kMaxRequestBytes, 0x1000), 1u);  // untouched
}

TEST_F(RngTest, ReadableBuffersAreReturnedEmpty) {
    ring.set_desc(0, kBuf, 16, kDescNext, 1);  // 5.4.6.1: the driver must not do this
    ring.set_desc(1, kBuf + 0x100, 16, kDescWrite);
    ring.offer(0);
    driver.write(mmio::kQueueNotify, 0);
    ASSERT_EQ(ring.used_idx(), 1);
    EXPECT_EQ(ring.used_elem(0).len, 0u);
    EXPECT_EQ(distinct_bytes(kBuf + 0x100, 16), 1u);
    EXPECT_EQ(driver.read(mmio::kStatus) & kStatusNeedsReset, 0u);
}

TEST_F(RngTest, MalformedChainNeedsReset) {
    ring.set_desc(0, guest.end() - 8, 16, kDescWrite);  // runs past RAM
    ring.offer(0);
    driver.write(mmio::kQueueNotify, 0);
    EXPECT_EQ(ring.used_idx(), 0);
    EXPECT_EQ(driver.read(mmio::kStatus) & kStatusNeedsReset, kStatusNeedsReset);
    EXPECT_EQ(driver.read(mmio::kInterruptStatus), mmio::kInterruptConfigChange);
}

}  // namespace
