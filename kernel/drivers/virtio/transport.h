// What a virtio driver sees of its device whatever the bus (virtio 1.2, 4.1 PCI, 4.2 MMIO):
// the status handshake, features, queues, notifications and the device configuration. Each
// bus's discovery registers the devices it finds here; a driver claims the first one with its
// device ID. A driver either takes the device's interrupt (enable_interrupt) or polls.
#pragma once

#include <cstdint>

#include "lib/base/result.h"
#include "lib/virtio/driver_queue.h"

namespace kernel::drivers::virtio {

class Transport {
public:
    static constexpr uint16_t kMaxQueues = 4;

    uint32_t device_id() const { return m_device_id; }
    // Where the device is, for logs: "0xfeb00e00" (MMIO), "00:03.0" (PCI).
    const char* location() const { return m_location; }

    // 3.1.1 steps 1-6: reset, ACKNOWLEDGE, DRIVER, then the features: the device's offer
    // intersected with `wanted` plus VIRTIO_F_VERSION_1 (required) and ACCESS_PLATFORM (when
    // offered), confirmed by reading FEATURES_OK back. A legacy device (3.1.2) has 32 feature
    // bits and no FEATURES_OK. Returns what was agreed.
    lib::Result<uint64_t> negotiate(uint64_t wanted);
    // Sets up queue `index` with at most `max_size` entries: the largest power of two the
    // device allows (a legacy device's queue has the device's size, at most
    // DriverQueue::kMaxSize). The ring memory stays the device's for good.
    virtual lib::Result<lib::virtio::DriverQueue*> setup_queue(uint16_t index,
                                                               uint16_t max_size) = 0;
    virtual void notify(uint16_t queue_index) = 0;
    // The device configuration, 32 bits at `offset` within it; 0 past its end. 64-bit fields
    // go through read_config64, which retries while the device changes them (2.5.1).
    virtual uint32_t read_config32(uint32_t offset) const = 0;
    virtual uint64_t read_config64(uint32_t offset) const = 0;
    // Routes the device's used-buffer and configuration interrupts to `handler` (virtio-mmio:
    // the GSI from the command line through the I/O APIC). NoDev when this transport cannot
    // interrupt: the driver polls instead.
    virtual lib::ErrorOr enable_interrupt(void (*handler)(void*), void* context) {
        (void)handler, (void)context;
        return lib::Errno::NoDev;
    }
    // Reads and clears the interrupt's cause (kInterruptUsedBuffer | kInterruptConfigChange);
    // handlers call it before looking at their queues.
    virtual uint32_t acknowledge_interrupt() { return 0; }
    // 3.1.1 step 8: the device is live.
    void driver_ok();
    // The driver gave up. The device keeps its memory: a device that misbehaved might still
    // write to it, so it is never reused.
    void fail();

protected:
    Transport() = default;
    ~Transport() = default;
    // Called once by the bus code's constructor; `location` is copied (truncated).
    void set_identity(uint32_t device_id, const char* location);

    virtual uint8_t status() const = 0;
    virtual void set_status(uint8_t status) = 0;
    virtual uint64_t device_features() = 0;
    virtual void set_driver_features(uint64_t features) = 0;
    virtual bool legacy() const { return false; }

    // How many times read_config64 rereads a field that keeps changing before it settles for
    // the last value: a device that never stops must not hang the boot.
    static constexpr int kConfigRetries = 16;

private:
    lib::ErrorOr reset();

    uint32_t m_device_id = 0;
    char m_location[24] = {};
};

// Ring memory (frames, kept by the device for good) and the queue over it: `size` entries
// (a power of two up to DriverQueue::kMaxSize) in `layout`.
lib::Result<lib::virtio::DriverQueue*> allocate_queue(uint16_t size,
                                                      lib::virtio::RingLayout layout);
// The largest power of two no larger than the device's maximum, `wanted` and
// DriverQueue::kMaxSize; 0 when the device allows none.
uint16_t queue_size(uint32_t device_max, uint16_t wanted);

// Makes a discovered device claimable; logs and ignores devices beyond the table's room.
void register_device(Transport& device);
// The first unclaimed device with this ID, on any bus, now the caller's; nullptr when none.
Transport* claim_device(uint32_t device_id);
// The name of a device ID for logs ("rng", "block"), or "unknown".
const char* device_name(uint32_t device_id);

}  // namespace kernel::drivers::virtio
