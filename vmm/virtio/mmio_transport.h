// virtio-mmio version 2 (virtio 1.2, section 4.2): the register window in front of one
// VirtioDevice. Owns the status state machine, feature negotiation, the queues and the
// interrupt line. Every access comes straight from the guest and is checked here; a driver that
// breaks the rules gets DEVICE_NEEDS_RESET (2.1.2), never a crash. One lock serializes the
// guest's register accesses (vCPU thread) with a device's own queue work (process_queue, from
// a backend's thread).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "vmm/devices/mmio_device.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/virtio/device.h"
#include "vmm/virtio/queue.h"

namespace vmm::virtio {

class VirtioMmioTransport final : public MmioDevice, public QueueHost {
public:
    static constexpr uint32_t kVendorId = 0x50484f58;  // "PHOX"
    // Ring features the transport's Virtqueue implements, offered for every device.
    static constexpr uint64_t kTransportFeatures =
        (uint64_t(1) << lib::virtio::kFeatureVersion1) |
        (uint64_t(1) << lib::virtio::kFeatureIndirectDesc) |
        (uint64_t(1) << lib::virtio::kFeatureEventIdx);

    // `memory` and `irq` must outlive the transport.
    VirtioMmioTransport(const GuestMemory& memory, std::unique_ptr<VirtioDevice> device,
                        IrqLine& irq);

    void mmio_read(uint64_t offset, std::span<std::byte> data) override;
    void mmio_write(uint64_t offset, std::span<const std::byte> data) override;
    void process_queue(uint16_t q,
                       const std::function<lib::Result<bool>(Virtqueue&)>& work) override;

    // State, for the VMM's diagnostics and for tests.
    uint32_t status() const { return m_status; }
    uint32_t interrupt_status() const { return m_interrupt_status; }
    uint64_t offered_features() const { return m_offered_features; }
    uint64_t driver_features() const { return m_driver_features; }
    uint16_t queue_count() const { return uint16_t(m_queues.size()); }
    const Virtqueue& queue(uint16_t q) const { return m_queues[q]; }  // q < queue_count()
    VirtioDevice& device() { return *m_device; }

private:
    uint32_t read_register(uint64_t offset) const;
    void write_register(uint64_t offset, uint32_t value);
    void write_status(uint32_t value);
    bool accept_features() const;
    void write_queue_ready(uint32_t value);
    void write_queue_addr(uint64_t offset, uint32_t value);
    void notify(uint32_t value);
    void reset();
    void raise_interrupt(uint32_t bits);
    void ack_interrupt(uint32_t bits);
    void enter_needs_reset();
    Virtqueue* selected_queue();
    const Virtqueue* selected_queue() const;

    std::mutex m_lock;  // every member below
    std::unique_ptr<VirtioDevice> m_device;
    IrqLine* m_irq;
    std::vector<Virtqueue> m_queues;
    uint64_t m_offered_features;
    uint64_t m_driver_features = 0;
    uint32_t m_device_features_sel = 0;
    uint32_t m_driver_features_sel = 0;
    uint32_t m_queue_sel = 0;
    uint32_t m_status = 0;
    uint32_t m_interrupt_status = 0;
    uint32_t m_config_generation = 0;
};

}  // namespace vmm::virtio
