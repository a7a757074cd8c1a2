// The virtio-pci modern transport (virtio 1.2, 4.1.4-4.1.5): the common configuration
// structure for the handshake and the queues, a notification address per queue, and the
// device configuration, all in memory BARs that the discovery (pci.cc) checked and mapped
// uncached.
#pragma once

#include <cstdint>

#include "kernel/drivers/pci/config.h"
#include "kernel/drivers/virtio/transport.h"

namespace kernel::drivers::virtio {

// Virtual addresses of the mapped structures, and how much of each is mapped.
struct ModernPciRegisters {
    uint64_t common = 0;  // at least lib::virtio::pci::common::kMinLength bytes
    uint64_t notify = 0;
    uint64_t notify_length = 0;
    uint32_t notify_multiplier = 0;
    uint64_t device = 0;  // 0: the device has no configuration
    uint64_t device_length = 0;
    // MSI-X: the mapped table (0: none) and the capability's config-space offset.
    uint64_t msix_table = 0;
    uint8_t msix_capability = 0;
};

class ModernPciDevice final : public Transport {
public:
    ModernPciDevice(const char* location, uint32_t device_id, const ModernPciRegisters& registers,
                    pci::Address address);

    // 4.1.5.1.3: queue_select, queue_size (the largest power of two allowed), the three ring
    // addresses, queue_notify_off checked against the notify structure, queue_enable.
    lib::Result<lib::virtio::DriverQueue*> setup_queue(uint16_t index, uint16_t max_size) override;
    void notify(uint16_t queue_index) override;
    uint32_t read_config32(uint32_t offset) const override;
    uint64_t read_config64(uint32_t offset) const override;
    // MSI-X entry 0 to a fresh vector on this CPU, every set-up queue's vector 0 (4.1.5.1.2).
    lib::ErrorOr enable_interrupt(void (*handler)(void*), void* context) override;
    // With MSI-X the message is the whole cause; the ISR is not read (4.1.4.5).
    uint32_t acknowledge_interrupt() override { return 0; }

protected:
    uint8_t status() const override;
    void set_status(uint8_t status) override;
    uint64_t device_features() override;
    void set_driver_features(uint64_t features) override;

private:
    // Common configuration fields, each accessed with its own width (4.1.3.1).
    template <typename T>
    T read(uint32_t offset) const {
        return *reinterpret_cast<const volatile T*>(m_registers.common + offset);
    }
    template <typename T>
    void write(uint32_t offset, T value) {
        *reinterpret_cast<volatile T*>(m_registers.common + offset) = value;
    }
    void write64(uint32_t offset, uint64_t value);

    ModernPciRegisters m_registers;
    pci::Address m_address;
    uint64_t m_notify[kMaxQueues] = {};  // each set-up queue's notification address
    lib::virtio::DriverQueue* m_queues[kMaxQueues] = {};
};

}  // namespace kernel::drivers::virtio
