// The virtio-mmio transport, driver side (virtio 1.2, 4.2.3): finds the devices the command
// line announces, checks them and registers each for the driver that claims its device ID.
// Interrupts come on the GSI the command line gives, through the I/O APIC.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "kernel/drivers/virtio/transport.h"
#include "kernel/mm/frames.h"
#include "lib/base/result.h"
#include "lib/virtio/driver_queue.h"
#include "lib/virtio/mmio_cmdline.h"

namespace kernel::drivers::virtio {

class MmioDevice final : public Transport {
public:
    MmioDevice() = default;
    MmioDevice(const lib::virtio::MmioWindow& window, uint64_t registers, uint32_t device_id);

    const lib::virtio::MmioWindow& window() const { return m_window; }

    // 4.2.3.2: the queue registers, a power of two no larger than QueueNumMax.
    lib::Result<lib::virtio::DriverQueue*> setup_queue(uint16_t index, uint16_t max_size) override;
    void notify(uint16_t queue_index) override;
    // Device configuration space: offset 0x100 on (4.2.2).
    uint32_t read_config32(uint32_t offset) const override;
    uint64_t read_config64(uint32_t offset) const override;
    lib::ErrorOr enable_interrupt(void (*handler)(void*), void* context) override;
    // Reads and acknowledges InterruptStatus (kInterruptUsedBuffer, kInterruptConfigChange).
    uint32_t acknowledge_interrupt() override;

protected:
    uint8_t status() const override;
    void set_status(uint8_t status) override;
    uint64_t device_features() override;
    void set_driver_features(uint64_t features) override;

private:
    uint32_t read(uint32_t offset) const;
    void write(uint32_t offset, uint32_t value);
    void write64(uint32_t low_offset, uint64_t value);

    lib::virtio::MmioWindow m_window;
    uint64_t m_registers = 0;  // virtual address of the window, mapped uncached
    lib::virtio::DriverQueue* m_queues[kMaxQueues] = {};
};

// Maps and checks every `virtio_mmio.device=` window on the command line that lies outside
// RAM and registers it (transport.h); logs one line per device (and one for rejected words).
// Needs the heap and the kernel page tables; call once at boot.
void discover_mmio_devices(std::string_view cmdline, std::span<const mm::PhysRange> ram);

}  // namespace kernel::drivers::virtio
