// Legacy virtio-pci: port I/O on BAR 0 (virtio 1.2, 4.1.4.10).
#include "kernel/drivers/virtio/pci_legacy.h"

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/drivers/pci/port_io.h"
#include "kernel/mm/frames.h"
#include "lib/base/checked.h"
#include "lib/virtio/pci_regs.h"

namespace kernel::drivers::virtio {

namespace legacy = lib::virtio::pci::legacy;
using drivers::pci::inl;
using drivers::pci::inw;
using drivers::pci::outw;
using lib::virtio::DriverQueue;

LegacyPciDevice::LegacyPciDevice(const char* location, uint32_t device_id, uint16_t io_base,
                                 uint32_t io_size, uint16_t config_offset)
    : m_io_base(io_base), m_io_size(io_size), m_config_offset(config_offset) {
    set_identity(device_id, location);
}

uint8_t LegacyPciDevice::status() const { return arch::inb(port(legacy::kDeviceStatus)); }

void LegacyPciDevice::set_status(uint8_t status) {
    arch::outb(port(legacy::kDeviceStatus), status);
}

uint64_t LegacyPciDevice::device_features() { return inl(port(legacy::kDeviceFeatures)); }

void LegacyPciDevice::set_driver_features(uint64_t features) {
    arch::outl(port(legacy::kDriverFeatures), uint32_t(features));
}

lib::Result<DriverQueue*> LegacyPciDevice::setup_queue(uint16_t index, uint16_t /*max_size*/) {
    if (index >= kMaxQueues || m_queues[index]) return lib::Errno::Inval;
    outw(port(legacy::kQueueSelect), index);
    if (inl(port(legacy::kQueueAddress)) != 0) return lib::Errno::Busy;
    uint16_t size = inw(port(legacy::kQueueSize));
    if (size == 0) return lib::Errno::NoEnt;  // no such queue
    if ((size & (size - 1)) != 0 || size > DriverQueue::kMaxSize) return lib::Errno::OpNotSupp;
    // The register holds a 32-bit page number: rings must lie below 16 TiB.
    if (mm::highest_ram_address() >> legacy::kQueueAddressShift > 0xffff'ffff)
        return lib::Errno::OpNotSupp;
    DriverQueue* queue = TRY(allocate_queue(size, lib::virtio::RingLayout::Legacy));
    // From here the device knows the address: the memory is its own until the end.
    m_queues[index] = queue;
    queue->suppress_interrupts(true);  // FIXME(#5): drivers poll until interrupts exist
    arch::outl(port(legacy::kQueueAddress),
               uint32_t(queue->desc_address() >> legacy::kQueueAddressShift));
    return queue;
}

void LegacyPciDevice::notify(uint16_t queue_index) {
    outw(port(legacy::kQueueNotify), queue_index);
}

uint32_t LegacyPciDevice::read_config32(uint32_t offset) const {
    if (!lib::range_within(uint64_t(m_config_offset) + offset, 4, m_io_size)) return 0;
    return inl(port(uint16_t(m_config_offset + offset)));
}

uint64_t LegacyPciDevice::read_config64(uint32_t offset) const {
    auto read = [&] { return read_config32(offset) | uint64_t(read_config32(offset + 4)) << 32; };
    uint64_t value = read();
    for (int attempt = 0; attempt < kConfigRetries; ++attempt) {
        uint64_t again = read();
        if (again == value) break;
        value = again;
    }
    return value;
}

}  // namespace kernel::drivers::virtio
