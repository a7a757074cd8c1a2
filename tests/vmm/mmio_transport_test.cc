// virtio-mmio v2 transport driven the way a guest driver drives it: register by register
// through mmio_read/mmio_write (virtio 1.2, 4.2 and 3.1.1).
#include "vmm/virtio/mmio_transport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <memory>
#include <random>
#include <vector>

#include "tests/vmm/virtio_test_support.h"

namespace {

namespace mmio = lib::virtio::mmio;
using namespace lib::virtio;  // status bits, features, descriptor flags
using phx_test::bit;
using phx_test::DriverRing;
using phx_test::FakeGuest;
using phx_test::FakeIrq;
using phx_test::MmioDriver;
using vmm::virtio::VirtioMmioTransport;
using vmm::virtio::Virtqueue;

constexpr uint64_t kBase = 0x10000;
constexpr uint64_t kBuf = kBase + 0x8000;
constexpr uint64_t kDeviceFeatureBits = bit(0) | bit(5);

// Two queues (8 and 4 entries); fills each writable buffer with 0x77 and reports the bytes.
class FakeDevice final : public vmm::virtio::VirtioDevice {
public:
    explicit FakeDevice(const vmm::GuestMemory& memory) : m_memory(memory) {}
    uint32_t device_id() const override { return 42; }
    uint64_t device_features() const override { return kDeviceFeatureBits; }
    uint16_t queue_count() const override { return 2; }
    uint16_t max_queue_size(uint16_t q) const override { return q == 0 ? 8 : 4; }
    void read_config(uint64_t offset, std::span<std::byte> data) const override {
        vmm::virtio::copy_config(std::as_bytes(std::span(config)), offset, data);
    }
    void write_config(uint64_t offset, std::span<const std::byte> data) override {
        if (offset < config.size() && data.size() == 1) config[offset] = uint8_t(data[0]);
    }
    lib::ErrorOr activate(uint64_t features) override {
        activated_with = features;
        ++activations;
        if (fail_activate) return lib::Errno::Io;
        return {};
    }
    lib::Result<bool> queue_notify(uint16_t q, Virtqueue& queue) override {
        notified.push_back(q);
        if (fail_notify) return lib::Errno::Inval;
        bool used = false;
        while (auto chain = TRY(queue.pop())) {
            std::vector<std::byte> fill(chain->writable_bytes(), std::byte{0x77});
            size_t written = TRY(chain->write(m_memory, fill));
            TRY(queue.push_used(chain->head, uint32_t(written)));
            used = true;
        }
        return used;
    }
    void reset() override { ++resets; }

    std::array<uint8_t, 8> config{1, 2, 3, 4, 5, 6, 7, 8};
    uint64_t activated_with = 0;
    int activations = 0;
    int resets = 0;
    bool fail_activate = false;
    bool fail_notify = false;
    std::vector<uint16_t> notified;

private:
    const vmm::GuestMemory& m_memory;
};

struct TransportTest : ::testing::Test {
    FakeGuest guest{kBase, 0x10000};
    FakeIrq irq;
    FakeDevice* device = new FakeDevice(guest.memory);
    VirtioMmioTransport transport{guest.memory, std::unique_ptr<FakeDevice>(device), irq};
    MmioDriver driver{transport};
    DriverRing ring0{guest, 8, kBase, kBase + 0x1000, kBase + 0x2000};
    DriverRing ring1{guest, 4, kBase + 0x3000, kBase + 0x4000, kBase + 0x5000};

    static constexpr uint64_t kFeatures = bit(kFeatureVersion1) | bit(5);

    // The whole 3.1.1 sequence, ending with DRIVER_OK and queue 0 live.
    void bring_up(uint64_t features = kFeatures) {
        ASSERT_EQ(driver.negotiate(features),
                  kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
        driver.setup_queue(0, ring0);
        driver.setup_queue(1, ring1);
        driver.driver_ok();
        ASSERT_EQ(driver.read(mmio::kStatus),
                  kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);
    }
    // One writable 16-byte buffer offered on queue 0 and notified.
    void request() {
        ring0.set_desc(0, kBuf, 16, kDescWrite);
        ring0.offer(0);
        driver.write(mmio::kQueueNotify, 0);
    }
};

TEST_F(TransportTest, IdentityRegisters) {
    EXPECT_EQ(driver.read(mmio::kMagicValue), 0x74726976u);
    EXPECT_EQ(driver.read(mmio::kVersion), 2u);
    EXPECT_EQ(driver.read(mmio::kDeviceId), 42u);
    EXPECT_EQ(driver.read(mmio::kVendorId), 0x50484f58u);
    EXPECT_EQ(driver.read(mmio::kStatus), 0u);
    EXPECT_EQ(driver.read(mmio::kInterruptStatus), 0u);
    EXPECT_EQ(driver.read(mmio::kConfigGeneration), 0u);
    EXPECT_EQ(driver.read(mmio::kShmLenLow), UINT32_MAX);  // no shared memory region
    EXPECT_EQ(driver.read(mmio::kShmLenHigh), UINT32_MAX);
    EXPECT_EQ(driver.read(mmio::kQueueDescLow), 0u);  // write-only
}

TEST_F(TransportTest, OffersDeviceAndRingFeatures) {
    EXPECT_EQ(driver.device_features(), kDeviceFeatureBits | bit(kFeatureVersion1) |
                                            bit(kFeatureIndirectDesc) | bit(kFeatureEventIdx));
    driver.write(mmio::kDeviceFeaturesSel, 0);
    EXPECT_EQ(driver.read(mmio::kDeviceFeatures), 0x30000021u);
    driver.write(mmio::kDeviceFeaturesSel, 1);
    EXPECT_EQ(driver.read(mmio::kDeviceFeatures), 1u);
    driver.write(mmio::kDeviceFeaturesSel, 2);
    EXPECT_EQ(driver.read(mmio::kDeviceFeatures), 0u);
}

TEST_F(TransportTest, FullHandshakeNotifyInterruptAck) {
    bring_up();
    EXPECT_EQ(device->activations, 1);
    EXPECT_EQ(device->activated_with, kFeatures);
    EXPECT_EQ(transport.driver_features(), kFeatures);
    driver.write(mmio::kQueueSel, 0);
    EXPECT_EQ(driver.read(mmio::kQueueNumMax), 8u);
    EXPECT_EQ(driver.read(mmio::kQueueReady), 1u);
    driver.write(mmio::kQueueSel, 1);
    EXPECT_EQ(driver.read(mmio::kQueueNumMax), 4u);
    EXPECT_EQ(driver.read(mmio::kQueueReady), 1u);
    EXPECT_FALSE(irq.level);

    request();
    ASSERT_EQ(device->notified, std::vector<uint16_t>{0});
    EXPECT_EQ(ring0.used_idx(), 1);
    EXPECT_EQ(ring0.used_elem(0).id, 0u);
    EXPECT_EQ(ring0.used_elem(0).len, 16u);
    EXPECT_EQ(guest.get<uint64_t>(kBuf + 8), 0x7777777777777777u);
    EXPECT_EQ(driver.read(mmio::kInterruptStatus), mmio::kInterruptUsedBuffer);
    EXPECT_TRUE(irq.level);

    driver.write(mmio::kInterruptAck, mmio::kInterruptConfigChange);  // not the pending bit
    EXPECT_TRUE(irq.level);
    driver.write(mmio::kInterruptAck, mmio::kInterruptUsedBuffer);
    EXPECT_EQ(driver.read(mmio::kInterruptStatus), 0u);
    EXPECT_FALSE(irq.level);
}

TEST_F(TransportTest, NoInterruptWhenTheDriverSuppressesIt) {
    bring_up();
    ring0.set_avail_flags(kAvailNoInterrupt);
    request();
    EXPECT_EQ(ring0.used_idx(), 1);
    EXPECT_EQ(driver.read(mmio::kInterruptStatus), 0u);
    EXPECT_FALSE(irq.level);
}

TEST_F(TransportTest, RefusesFeaturesNotOfferedOrWithoutVersion1) {
    uint32_t without_ok = kStatusAcknowledge | kStatusDriver;
    EXPECT_EQ(driver.negotiate(kFeatures | bit(7)), without_ok);   // not offered
    EXPECT_EQ(driver.negotiate(kFeatures | bit(40)), without_ok);  // not offered, high
    EXPECT_EQ(driver.negotiate(bit(5)), without_ok);               // legacy driver
    driver.driver_ok();                                            // without FEATURES_OK
    EXPECT_EQ(driver.read(mmio::kStatus), without_ok);
    EXPECT_EQ(device->activations, 0);
    EXPECT_EQ(driver.negotiate(bit(kFeatureVersion1)), without_ok | kStatusFeaturesOk);
}

TEST_F(TransportTest, FeaturesAndStatusBitsAreFixedOnceAccepted) {
    bring_up();
    driver.set_driver_features(bit(kFeatureVersion1));  // after FEATURES_OK: ignored
    EXPECT_EQ(transport.driver_features(), kFeatures);
    driver.write(mmio::kStatus, kStatusAcknowledge);  // clearing bits: ignored
    EXPECT_EQ(driver.read(mmio::kStatus),
              kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);
    driver.write(mmio::kStatus, driver.read(mmio::kStatus) | kStatusNeedsReset);  // device's bit
    EXPECT_EQ(driver.read(mmio::kStatus) & kStatusNeedsReset, 0u);
    EXPECT_EQ(device->activations, 1);
}

TEST_F(TransportTest, QueueRegistersIgnoredWhileReadyOrOutOfRange) {
    bring_up();
    driver.write(mmio::kQueueSel, 0);
    driver.write(mmio::kQueueNum, 2);
    driver.write64(mmio::kQueueDescLow, kBase + 0x7000);
    driver.write(mmio::kQueueReady, 1);
    EXPECT_EQ(transport.queue(0).size(), 8);
    EXPECT_EQ(transport.queue(0).desc_addr(), kBase);
    driver.write(mmio::kQueueSel, 2);  // no such queue
    EXPECT_EQ(driver.read(mmio::kQueueNumMax), 0u);
    EXPECT_EQ(driver.read(mmio::kQueueReady), 0u);
    driver.write(mmio::kQueueReady, 1);
    driver.write(mmio::kQueueNotify, 2);
    driver.write(mmio::kQueueNotify, 0xffff);
    EXPECT_TRUE(device->notified.empty());
    EXPECT_EQ(driver.read(mmio::kStatus) & kStatusNeedsReset, 0u);
}

TEST_F(TransportTest, QueueReadyZeroStopsTheQueue) {
    bring_up();
    driver.write(mmio::kQueueSel, 0);
    driver.write(mmio::kQueueReady, 0);
    EXPECT_EQ(driver.read(mmio::kQueueReady), 0u);
    request();
    EXPECT_TRUE(device->notified.empty());
    EXPECT_EQ(ring0.used_idx(), 0);
}

TEST_F(TransportTest, BadRingsAtQueueReadySetNeedsReset) {
    ASSERT_EQ(driver.negotiate(kFeatures), kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
    DriverRing bad{guest, 8, kBase + 8, kBase + 0x1000, kBase + 0x2000};  // misaligned table
    driver.setup_queue(0, bad);
    EXPECT_EQ(driver.read(mmio::kQueueReady), 0u);
    EXPECT_EQ(driver.read(mmio::kStatus) & kStatusNeedsReset, kStatusNeedsReset);
    EXPECT_EQ(driver.read(mmio::kInterruptStatus), 0u);  // not running yet: no interrupt

    bring_up();  // negotiate() starts with a reset, which clears NEEDS_RESET
    DriverRing outside{guest, 8, kBase, kBase + 0x1000, guest.end() - 8};
    driver.write(mmio::kQueueSel, 0);
    driver.write(mmio::kQueueReady, 0);
    driver.setup_queue(0, outside);
    EXPECT_EQ(driver.read(mmio::kQueueReady), 0u);
    EXPECT_EQ(driver.read(mmio::kStatus) & kStatusNeedsReset, kStatusNeedsReset);
    EXPECT_EQ(driver.read(mmio::kInterruptStatus), mmio::kInterruptConfigChange);
    EXPECT_TRUE(irq.level);

    driver.write(mmio::kQueueSel, 1);  // QueueNum not a power of two
    driver.write(mmio::kQueueReady, 0);
    driver.write(mmio::kQueueNum, 3);
    driver.write(mmio::kQueueReady, 1);
    EXPECT_EQ(driver.read(mmio::kQueueReady), 0u);
}

TEST_F(TransportTest, DriverErrorSetsNeedsResetAndStopsTheDevice) {
    bring_up();
    ring0.set_desc(0, kBuf, 16, kDescNext, 0);  // a self-loop
    ring0.offer(0);
    driver.write(mmio::kQueueNotify, 0);
    EXPECT_EQ(device->notified.size(), 1u);
    EXPECT_EQ(driver.read(mmio::kStatus) & kStatusNeedsReset, kStatusNeedsReset);
    EXPECT_EQ(driver.read(mmio::kInterruptStatus), mmio::kInterruptConfigChange);
    EXPECT_TRUE(irq.level);
    EXPECT_EQ(ring0.used_idx(), 0);
    driver.write(mmio::kQueueNotify, 0);  // ignored until reset
    EXPECT_EQ(device->notified.size(), 1u);

    driver.write(mmio::kStatus, 0);
    EXPECT_EQ(driver.read(mmio::kStatus), 0u);
    EXPECT_FALSE(irq.level);
    std::fill(guest.ram.begin(), guest.ram.end(), std::byte{0});  // a fresh driver's rings
    bring_up();
    request();
    EXPECT_EQ(ring0.used_idx(), 1);
}

TEST_F(TransportTest, ActivateFailureSetsNeedsReset) {
    device->fail_activate = true;
    ASSERT_EQ(driver.negotiate(kFeatures), kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
    driver.setup_queue(0, ring0);
    driver.driver_ok();
    EXPECT_EQ(driver.read(mmio::kStatus) & kStatusNeedsReset, kStatusNeedsReset);
    EXPECT_EQ(driver.read(mmio::kInterruptStatus), mmio::kInterruptConfigChange);
}

TEST_F(TransportTest, NotifyBeforeDriverOkIsIgnored) {
    ASSERT_EQ(driver.negotiate(kFeatures), kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
    driver.setup_queue(0, ring0);
    request();
    EXPECT_TRUE(device->notified.empty());
    EXPECT_EQ(ring0.used_idx(), 0);
}

TEST_F(TransportTest, StatusZeroResetsEverything) {
    bring_up();
    request();
    ASSERT_TRUE(irq.level);
    int resets = device->resets;  // negotiate() began with one
    driver.write(mmio::kStatus, 0);
    EXPECT_EQ(device->resets, resets + 1);
    EXPECT_EQ(driver.read(mmio::kStatus), 0u);
    EXPECT_EQ(driver.read(mmio::kInterruptStatus), 0u);
    EXPECT_FALSE(irq.level);
    EXPECT_EQ(transport.driver_features(), 0u);
    for (uint16_t q = 0; q < 2; ++q) {
        driver.write(mmio::kQueueSel, q);
        EXPECT_EQ(driver.read(mmio::kQueueReady), 0u);
        EXPECT_EQ(transport.queue(q).desc_addr(), 0u);
    }
    driver.write(mmio::kQueueNotify, 0);
    EXPECT_EQ(device->notified.size(), 1u);
}

TEST_F(TransportTest, EventIdxAndIndirectWorkThroughTheTransport) {
    bring_up(kFeatures | bit(kFeatureEventIdx) | bit(kFeatureIndirectDesc));
    ring0.set_used_event(0);
    guest.put(kBase + 0x6000, VirtqDesc{kBuf, 8, kDescWrite, 0});
    ring0.set_desc(0, kBase + 0x6000, 16, kDescIndirect);
    ring0.offer(0);
    driver.write(mmio::kQueueNotify, 0);
    EXPECT_EQ(ring0.used_elem(0).len, 8u);
    EXPECT_EQ(ring0.avail_event(), 1);
    EXPECT_EQ(driver.read(mmio::kInterruptStatus), mmio::kInterruptUsedBuffer);
}

TEST_F(TransportTest, NarrowOrUnalignedRegisterAccessesAreIgnored) {
    std::array<std::byte, 8> buf;
    for (size_t width : {1u, 2u, 8u}) {
        buf.fill(std::byte{0xff});
        transport.mmio_read(mmio::kMagicValue, std::span(buf).first(width));
        for (size_t i = 0; i < width; ++i) EXPECT_EQ(buf[i], std::byte{0}) << width;
    }
    EXPECT_EQ(driver.read(mmio::kMagicValue + 2), 0u);
    buf.fill(std::byte{0x01});
    transport.mmio_write(mmio::kStatus, std::span(buf).first(1));
    transport.mmio_write(mmio::kStatus, std::span(buf).first(8));
    driver.write(mmio::kStatus + 1, kStatusAcknowledge);
    EXPECT_EQ(driver.read(mmio::kStatus), 0u);
}

TEST_F(TransportTest, ConfigSpaceAnyWidthBoundedByTheDevice) {
    std::array<std::byte, 8> buf{};
    transport.mmio_read(mmio::kConfig + 1, std::span(buf).first(2));
    EXPECT_EQ(buf[0], std::byte{2});
    EXPECT_EQ(buf[1], std::byte{3});
    EXPECT_EQ(driver.read(mmio::kConfig + 4), 0x08070605u);
    EXPECT_EQ(driver.read(mmio::kConfig + 6), 0x00000807u);  // past the end reads zero
    EXPECT_EQ(driver.read(mmio::kConfig + 0x100), 0u);
    EXPECT_EQ(driver.read(mmio::kWindowSize), 0u);
    EXPECT_EQ(driver.read(UINT64_MAX - 3), 0u);
    buf[0] = std::byte{0x99};
    transport.mmio_write(mmio::kConfig + 2, std::span(buf).first(1));
    EXPECT_EQ(device->config[2], 0x99);
}

// Every offset in the window, every width, random values, with a live queue whose ring is
// garbage: nothing may crash (ASan/UBSan watch), and a reset brings the device back.
TEST_F(TransportTest, GarbageWritesToEveryOffsetDoNotCrash) {
    std::mt19937_64 rng(1234);
    for (auto& b : guest.ram) b = std::byte(rng());
    for (int round = 0; round < 3; ++round) {
        bring_up();
        for (uint64_t offset = 0; offset < mmio::kWindowSize + 8; ++offset) {
            for (size_t width : {1u, 2u, 4u, 8u}) {
                uint64_t value = rng();
                if (round == 0 && offset == mmio::kStatus) continue;  // keep one round running
                transport.mmio_write(offset, std::as_bytes(std::span(&value, 1)).first(width));
                std::array<std::byte, 8> out;
                transport.mmio_read(offset, std::span(out).first(width));
            }
            if (offset % 64 == 0) driver.write(mmio::kQueueNotify, uint32_t(rng() % 3));
        }
    }
    driver.write(mmio::kStatus, 0);
    EXPECT_EQ(driver.read(mmio::kStatus), 0u);
    EXPECT_FALSE(irq.level);
    for (auto& b : guest.ram) b = std::byte{0};
    bring_up();
    request();
    EXPECT_EQ(ring0.used_elem(0).len, 16u);
    EXPECT_EQ(driver.read(mmio::kInterruptStatus), mmio::kInterruptUsedBuffer);
}

}  // namespace
