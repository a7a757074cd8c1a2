// The virtio-mmio transport, driver side (virtio 1.2, 4.2.3): finds the devices the command
// line announces, checks and initializes them, and hands each to the driver that claims its
// device ID. Drivers poll their used rings for now; acknowledge_interrupt() is where an IRQ
// handler will come in.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "kernel/mm/frames.h"
#include "lib/base/result.h"
#include "lib/virtio/driver_queue.h"
#include "lib/virtio/mmio_cmdline.h"

namespace kernel::drivers::virtio {

class MmioDevice {
public:
    static constexpr uint16_t kMaxQueues = 4;

    MmioDevice() = default;
    MmioDevice(const lib::virtio::MmioWindow& window, uint64_t registers, uint32_t device_id)
        : m_window(window), m_registers(registers), m_device_id(device_id) {}

    uint32_t device_id() const { return m_device_id; }
    const lib::virtio::MmioWindow& window() const { return m_window; }

    // 3.1.1 steps 1-6: reset, ACKNOWLEDGE, DRIVER, then the features: the device's offer
    // intersected with `wanted` plus VIRTIO_F_VERSION_1 (required) and ACCESS_PLATFORM (when
    // offered), confirmed by reading FEATURES_OK back. Returns what was agreed.
    lib::Result<uint64_t> negotiate(uint64_t wanted);
    // 4.2.3.2: sets up queue `index` with at most `max_size` entries (a power of two no larger
    // than the device's QueueNumMax). The ring memory stays the device's for good.
    lib::Result<lib::virtio::DriverQueue*> setup_queue(uint16_t index, uint16_t max_size);
    // 3.1.1 step 8: the device is live.
    void driver_ok();
    // 3.1.1: the driver gave up. The device keeps its memory: a device that misbehaved might
    // still write to it, so it is never reused.
    void fail();

    void notify(uint16_t queue_index);
    // Device configuration space (4.2.2: offset 0x100 on), 32 bits at a time; `offset` is
    // relative to the configuration space. Reads of 64-bit fields go through
    // read_config64, which retries on a generation change (2.5.1).
    uint32_t read_config32(uint32_t offset) const;
    uint64_t read_config64(uint32_t offset) const;
    // Reads and acknowledges InterruptStatus (kInterruptUsedBuffer, kInterruptConfigChange).
    // FIXME(#5): called from the device's IRQ handler once the kernel has an interrupt
    // controller; until then drivers poll their used rings.
    uint32_t acknowledge_interrupt();

private:
    uint32_t read(uint32_t offset) const;
    void write(uint32_t offset, uint32_t value);
    void write64(uint32_t low_offset, uint64_t value);
    lib::ErrorOr reset();

    lib::virtio::MmioWindow m_window;
    uint64_t m_registers = 0;  // virtual address of the window, mapped uncached
    uint32_t m_device_id = 0;
    lib::virtio::DriverQueue* m_queues[kMaxQueues] = {};
};

// Maps and checks every `virtio_mmio.device=` window on the command line that lies outside
// RAM; logs one line per device (and one for rejected words). Needs the heap and the kernel
// page tables; call once at boot.
void discover_mmio_devices(std::string_view cmdline, std::span<const mm::PhysRange> ram);

// The first unclaimed device with this ID, now the caller's; nullptr when there is none.
MmioDevice* claim_device(uint32_t device_id);

// The name of a device ID for logs ("rng", "net"), or "unknown".
const char* device_name(uint32_t device_id);

}  // namespace kernel::drivers::virtio
