// Test helpers for the VMM's virtio code: a fake guest RAM made of one std::vector region, the
// driver's side of a split ring written into it by hand, a recording IrqLine, and a guest
// driver that talks to a transport through mmio_read/mmio_write.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "lib/virtio/mmio_regs.h"
#include "lib/virtio/ring.h"
#include "vmm/devices/mmio_device.h"
#include "vmm/memory/guest_memory.h"

namespace phx_test {

// One region of guest RAM at [base, base + size), backed by an exactly-sized heap buffer so
// that ASan flags any access past it.
struct FakeGuest {
    explicit FakeGuest(uint64_t base = 0x10000, uint64_t size = 0x10000)
        : base(base), ram(size), memory({{base, size, ram.data()}}) {}

    uint64_t end() const { return base + ram.size(); }

    template <typename T>
    void put(uint64_t gpa, const T& value) {
        ASSERT_FALSE(memory.write_obj(gpa, value).is_error()) << std::hex << gpa;
    }
    template <typename T>
    T get(uint64_t gpa) const {
        auto value = memory.read_obj<T>(gpa);
        EXPECT_FALSE(value.is_error()) << std::hex << gpa;
        return value.is_error() ? T{} : value.value();
    }
    std::byte* host(uint64_t gpa) { return ram.data() + (gpa - base); }

    uint64_t base;
    std::vector<std::byte> ram;
    vmm::GuestMemory memory;
};

// The driver's side of a split ring, placed at desc/avail/used in a FakeGuest.
struct DriverRing {
    FakeGuest& guest;
    uint16_t size;
    uint64_t desc;
    uint64_t avail;
    uint64_t used;

    void set_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags = 0, uint16_t next = 0) {
        guest.put(desc + uint64_t(i) * 16, lib::virtio::VirtqDesc{addr, len, flags, next});
    }
    // Puts `head` in the next avail slot and publishes it.
    void offer(uint16_t head) {
        uint16_t idx = avail_idx();
        guest.put<uint16_t>(avail + 4 + 2 * uint64_t(idx % size), head);
        set_avail_idx(uint16_t(idx + 1));
    }
    uint16_t avail_idx() const { return guest.get<uint16_t>(avail + 2); }
    void set_avail_idx(uint16_t idx) { guest.put<uint16_t>(avail + 2, idx); }
    void set_avail_flags(uint16_t flags) { guest.put<uint16_t>(avail, flags); }
    void set_used_event(uint16_t v) { guest.put<uint16_t>(avail + 4 + 2 * uint64_t(size), v); }
    uint16_t used_idx() const { return guest.get<uint16_t>(used + 2); }
    lib::virtio::VirtqUsedElem used_elem(uint16_t i) const {
        return guest.get<lib::virtio::VirtqUsedElem>(used + 4 + 8 * uint64_t(i % size));
    }
    uint16_t avail_event() const { return guest.get<uint16_t>(used + 4 + 8 * uint64_t(size)); }
};

class FakeIrq final : public vmm::IrqLine {
public:
    void set_level(bool high) override {
        level = high;
        ++changes;
    }
    bool level = false;
    int changes = 0;
};

// A guest driver's register accesses.
struct MmioDriver {
    vmm::MmioDevice& device;

    uint32_t read(uint64_t offset) {
        uint32_t value = 0xdeadbeef;
        device.mmio_read(offset, std::as_writable_bytes(std::span(&value, 1)));
        return value;
    }
    void write(uint64_t offset, uint32_t value) {
        device.mmio_write(offset, std::as_bytes(std::span(&value, 1)));
    }
    void write64(uint64_t low_offset, uint64_t value) {
        write(low_offset, uint32_t(value));
        write(low_offset + 4, uint32_t(value >> 32));
    }
    uint64_t device_features() {
        write(lib::virtio::mmio::kDeviceFeaturesSel, 0);
        uint64_t low = read(lib::virtio::mmio::kDeviceFeatures);
        write(lib::virtio::mmio::kDeviceFeaturesSel, 1);
        return low | uint64_t(read(lib::virtio::mmio::kDeviceFeatures)) << 32;
    }
    void set_driver_features(uint64_t features) {
        write(lib::virtio::mmio::kDriverFeaturesSel, 0);
        write(lib::virtio::mmio::kDriverFeatures, uint32_t(features));
        write(lib::virtio::mmio::kDriverFeaturesSel, 1);
        write(lib::virtio::mmio::kDriverFeatures, uint32_t(features >> 32));
    }
    // virtio 1.2, 4.2.3.2: select, size, the three addresses, then QueueReady.
    void setup_queue(uint16_t q, const DriverRing& ring) {
        namespace mmio = lib::virtio::mmio;
        write(mmio::kQueueSel, q);
        write(mmio::kQueueNum, ring.size);
        write64(mmio::kQueueDescLow, ring.desc);
        write64(mmio::kQueueDriverLow, ring.avail);
        write64(mmio::kQueueDeviceLow, ring.used);
        write(mmio::kQueueReady, 1);
    }
    // 3.1.1 up to and including FEATURES_OK; returns the Status read back.
    uint32_t negotiate(uint64_t features) {
        namespace mmio = lib::virtio::mmio;
        write(mmio::kStatus, 0);
        write(mmio::kStatus, lib::virtio::kStatusAcknowledge);
        write(mmio::kStatus, lib::virtio::kStatusAcknowledge | lib::virtio::kStatusDriver);
        set_driver_features(features);
        write(mmio::kStatus, lib::virtio::kStatusAcknowledge | lib::virtio::kStatusDriver |
                                 lib::virtio::kStatusFeaturesOk);
        return read(mmio::kStatus);
    }
    void driver_ok() {
        write(lib::virtio::mmio::kStatus,
              read(lib::virtio::mmio::kStatus) | lib::virtio::kStatusDriverOk);
    }
};

inline constexpr uint64_t bit(unsigned n) { return uint64_t(1) << n; }

}  // namespace phx_test
