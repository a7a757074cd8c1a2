// virtio-pci modern: the common configuration structure's registers (virtio 1.2, 4.1.4.3).
#include "kernel/drivers/virtio/pci_modern.h"

#include "kernel/arch/x86_64/irq.h"

#include "lib/base/checked.h"
#include "lib/virtio/pci_caps.h"
#include "lib/virtio/pci_regs.h"

namespace kernel::drivers::virtio {

namespace common = lib::virtio::pci::common;
using lib::virtio::DriverQueue;

ModernPciDevice::ModernPciDevice(const char* location, uint32_t device_id,
                                 const ModernPciRegisters& registers, pci::Address address)
    : m_registers(registers), m_address(address) {
    set_identity(device_id, location);
}

uint8_t ModernPciDevice::status() const { return read<uint8_t>(common::kDeviceStatus); }

void ModernPciDevice::set_status(uint8_t status) { write<uint8_t>(common::kDeviceStatus, status); }

uint64_t ModernPciDevice::device_features() {
    write<uint32_t>(common::kDeviceFeatureSelect, 0);
    uint64_t offered = read<uint32_t>(common::kDeviceFeature);
    write<uint32_t>(common::kDeviceFeatureSelect, 1);
    return offered | uint64_t(read<uint32_t>(common::kDeviceFeature)) << 32;
}

void ModernPciDevice::set_driver_features(uint64_t features) {
    write<uint32_t>(common::kDriverFeatureSelect, 0);
    write<uint32_t>(common::kDriverFeature, uint32_t(features));
    write<uint32_t>(common::kDriverFeatureSelect, 1);
    write<uint32_t>(common::kDriverFeature, uint32_t(features >> 32));
}

// 4.1.3.1: a 64-bit field may be written as two 32-bit halves, low first.
void ModernPciDevice::write64(uint32_t offset, uint64_t value) {
    write<uint32_t>(offset, uint32_t(value));
    write<uint32_t>(offset + 4, uint32_t(value >> 32));
}

lib::Result<DriverQueue*> ModernPciDevice::setup_queue(uint16_t index, uint16_t max_size) {
    if (index >= kMaxQueues || m_queues[index]) return lib::Errno::Inval;
    if (index >= read<uint16_t>(common::kNumQueues)) return lib::Errno::NoEnt;
    write<uint16_t>(common::kQueueSelect, index);
    if (read<uint16_t>(common::kQueueEnable) != 0) return lib::Errno::Busy;
    uint16_t size = queue_size(read<uint16_t>(common::kQueueSize), max_size);
    if (size == 0) return lib::Errno::NoEnt;  // 0: the queue is not available
    auto notify =
        lib::virtio::pci::notify_offset(read<uint16_t>(common::kQueueNotifyOff),
                                        m_registers.notify_multiplier, m_registers.notify_length);
    if (!notify) return lib::Errno::Io;  // its notification address is outside the structure
    DriverQueue* queue = TRY(allocate_queue(size, lib::virtio::RingLayout::Modern));
    // From here the device knows the addresses: the memory is its own until the end.
    m_queues[index] = queue;
    queue->suppress_interrupts(true);  // until the driver takes the interrupt
    write<uint16_t>(common::kQueueSize, size);
    write64(common::kQueueDesc, queue->desc_address());
    write64(common::kQueueDriver, queue->driver_address());
    write64(common::kQueueDevice, queue->device_address());
    m_notify[index] = m_registers.notify + *notify;
    write<uint16_t>(common::kQueueEnable, 1);
    return queue;
}

lib::ErrorOr ModernPciDevice::enable_interrupt(void (*handler)(void*), void* context) {
    if (!m_registers.msix_table) return lib::Errno::NoDev;
    int vector = TRY(arch::allocate_irq_vector(handler, context));
    // PCI 3.0, 6.8.2.8: message address (the local APIC of this CPU, physical destination),
    // data (the vector, fixed delivery, edge), vector control (bit 0: masked).
    auto* entry = reinterpret_cast<volatile uint32_t*>(m_registers.msix_table);
    entry[0] = 0xfee00000u | (arch::apic_id() & 0xff) << 12;
    entry[1] = 0;
    entry[2] = uint32_t(vector);
    entry[3] = 0;
    constexpr uint16_t kEnable = 1u << 15, kFunctionMask = 1u << 14;
    uint8_t control = uint8_t(m_registers.msix_capability + 2);
    uint16_t value = pci::read16(m_address, control);
    pci::write16(m_address, control, uint16_t((value | kEnable) & ~kFunctionMask));
    // 4.1.5.1.2: configuration changes go nowhere; each queue to entry 0, read back (a
    // device out of vectors answers NO_VECTOR).
    constexpr uint16_t kNoVector = 0xffff;
    write<uint16_t>(common::kConfigMsixVector, kNoVector);
    for (uint16_t index = 0; index < kMaxQueues; ++index) {
        if (!m_queues[index]) continue;
        write<uint16_t>(common::kQueueSelect, index);
        write<uint16_t>(common::kQueueMsixVector, 0);
        if (read<uint16_t>(common::kQueueMsixVector) != 0) return lib::Errno::NoSpc;
    }
    return {};
}

// 4.1.4.4: without VIRTIO_F_NOTIFICATION_DATA the driver writes the queue's index.
void ModernPciDevice::notify(uint16_t queue_index) {
    if (queue_index >= kMaxQueues || !m_notify[queue_index]) return;
    *reinterpret_cast<volatile uint16_t*>(m_notify[queue_index]) = queue_index;
}

uint32_t ModernPciDevice::read_config32(uint32_t offset) const {
    if (!m_registers.device || !lib::range_within(offset, 4, m_registers.device_length)) return 0;
    return *reinterpret_cast<const volatile uint32_t*>(m_registers.device + offset);
}

uint64_t ModernPciDevice::read_config64(uint32_t offset) const {
    uint64_t value = 0;
    for (int attempt = 0; attempt < kConfigRetries; ++attempt) {
        uint8_t generation = read<uint8_t>(common::kConfigGeneration);
        value = read_config32(offset) | uint64_t(read_config32(offset + 4)) << 32;
        if (read<uint8_t>(common::kConfigGeneration) == generation) break;
    }
    return value;
}

}  // namespace kernel::drivers::virtio
