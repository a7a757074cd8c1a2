// virtio-mmio discovery, its registers for the status handshake, and queue setup (virtio 1.2:
// 4.2.3.1 device checks, 4.2.3.2 virtqueue configuration).
#include "kernel/drivers/virtio/mmio.h"

#include "kernel/arch/x86_64/irq.h"
#include "kernel/drivers/ioapic.h"

#include "kernel/console/log.h"
#include "kernel/mm/page_table.h"
#include "lib/base/checked.h"
#include "lib/base/format.h"
#include "lib/virtio/mmio_regs.h"

namespace kernel::drivers::virtio {

namespace {

namespace mmio = lib::virtio::mmio;
using lib::virtio::DriverQueue;

MmioDevice g_devices[lib::virtio::kMaxMmioDevices];
size_t g_device_count = 0;

bool overlaps_ram(const lib::virtio::MmioWindow& window, std::span<const mm::PhysRange> ram) {
    for (const mm::PhysRange& range : ram)
        if (window.base < range.base + range.length && range.base < window.base + window.size)
            return true;
    return false;
}

}  // namespace

MmioDevice::MmioDevice(const lib::virtio::MmioWindow& window, uint64_t registers,
                       uint32_t device_id)
    : m_window(window), m_registers(registers) {
    char location[24];
    lib::BufferSink sink(location, sizeof(location));
    lib::format_to(sink, "{:#x}", window.base);
    set_identity(device_id, location);
}

uint32_t MmioDevice::read(uint32_t offset) const {
    return *reinterpret_cast<const volatile uint32_t*>(m_registers + offset);
}

void MmioDevice::write(uint32_t offset, uint32_t value) {
    *reinterpret_cast<volatile uint32_t*>(m_registers + offset) = value;
}

void MmioDevice::write64(uint32_t low_offset, uint64_t value) {
    write(low_offset, uint32_t(value));
    write(low_offset + 4, uint32_t(value >> 32));
}

uint8_t MmioDevice::status() const { return uint8_t(read(mmio::kStatus)); }

void MmioDevice::set_status(uint8_t status) { write(mmio::kStatus, status); }

uint64_t MmioDevice::device_features() {
    write(mmio::kDeviceFeaturesSel, 0);
    uint64_t offered = read(mmio::kDeviceFeatures);
    write(mmio::kDeviceFeaturesSel, 1);
    return offered | uint64_t(read(mmio::kDeviceFeatures)) << 32;
}

void MmioDevice::set_driver_features(uint64_t features) {
    write(mmio::kDriverFeaturesSel, 0);
    write(mmio::kDriverFeatures, uint32_t(features));
    write(mmio::kDriverFeaturesSel, 1);
    write(mmio::kDriverFeatures, uint32_t(features >> 32));
}

lib::Result<DriverQueue*> MmioDevice::setup_queue(uint16_t index, uint16_t max_size) {
    if (index >= kMaxQueues || m_queues[index]) return lib::Errno::Inval;
    write(mmio::kQueueSel, index);
    if (read(mmio::kQueueReady) != 0) return lib::Errno::Busy;
    uint32_t num_max = read(mmio::kQueueNumMax);
    if (num_max == 0) return lib::Errno::NoEnt;  // no such queue
    uint16_t size = queue_size(num_max, max_size);
    if (size == 0) return lib::Errno::Inval;
    DriverQueue* queue = TRY(allocate_queue(size, lib::virtio::RingLayout::Modern));
    // From here the device knows the addresses: the memory is its own until the end.
    m_queues[index] = queue;
    queue->suppress_interrupts(true);  // FIXME(#5): drivers poll until interrupts exist
    write(mmio::kQueueNum, size);
    write64(mmio::kQueueDescLow, queue->desc_address());
    write64(mmio::kQueueDriverLow, queue->driver_address());
    write64(mmio::kQueueDeviceLow, queue->device_address());
    write(mmio::kQueueReady, 1);
    if (read(mmio::kQueueReady) != 1) return lib::Errno::Io;  // the device refused the rings
    return queue;
}

void MmioDevice::notify(uint16_t queue_index) { write(mmio::kQueueNotify, queue_index); }

uint32_t MmioDevice::read_config32(uint32_t offset) const {
    uint64_t mapped = m_window.size < mmio::kWindowSize ? m_window.size : mmio::kWindowSize;
    if (!lib::range_within(uint64_t(mmio::kConfig) + offset, 4, mapped)) return 0;
    return read(mmio::kConfig + offset);
}

uint64_t MmioDevice::read_config64(uint32_t offset) const {
    uint64_t value = 0;
    for (int attempt = 0; attempt < kConfigRetries; ++attempt) {
        uint32_t generation = read(mmio::kConfigGeneration);
        value = read_config32(offset) | uint64_t(read_config32(offset + 4)) << 32;
        if (read(mmio::kConfigGeneration) == generation) break;
    }
    return value;
}

lib::ErrorOr MmioDevice::enable_interrupt(void (*handler)(void*), void* context) {
    if (m_window.irq == 0) return lib::Errno::NoDev;
    int vector = TRY(arch::allocate_irq_vector(handler, context));
    return drivers::route_gsi(m_window.irq, vector);
}

uint32_t MmioDevice::acknowledge_interrupt() {
    uint32_t status = read(mmio::kInterruptStatus);
    if (status) write(mmio::kInterruptAck, status);
    return status;
}

namespace {

// 4.2.3.1.1: the magic value, version 2 (this driver has no legacy support), a device ID.
void probe(const lib::virtio::MmioWindow& window, std::span<const mm::PhysRange> ram) {
    if (window.size < mmio::kConfig || overlaps_ram(window, ram)) {
        klog("virtio-mmio: window {:#x}+{:#x} is too small or overlaps RAM, ignored", window.base,
             window.size);
        return;
    }
    uint64_t length = window.size < mmio::kWindowSize ? window.size : mmio::kWindowSize;
    auto registers = mm::map_mmio(window.base, length);
    if (registers.is_error()) {
        klog("virtio-mmio: cannot map {:#x}: {}", window.base, lib::errno_name(registers.error()));
        return;
    }
    auto reg = [&](uint32_t offset) {
        return *reinterpret_cast<const volatile uint32_t*>(registers.value() + offset);
    };
    if (uint32_t magic = reg(mmio::kMagicValue); magic != mmio::kMagic) {
        klog("virtio-mmio: no device at {:#x} (magic {:#x})", window.base, magic);
        return;
    }
    if (uint32_t version = reg(mmio::kVersion); version != mmio::kModernVersion) {
        klog("virtio-mmio: device at {:#x} has version {}, only 2 is supported", window.base,
             version);
        return;
    }
    uint32_t device_id = reg(mmio::kDeviceId);
    if (device_id == 0) return;  // an empty transport
    MmioDevice& device = g_devices[g_device_count++];
    device = MmioDevice(window, registers.value(), device_id);
    register_device(device);
    klog("virtio-mmio: {} at {:#x} irq {}", device_name(device_id), window.base, window.irq);
}

}  // namespace

void discover_mmio_devices(std::string_view cmdline, std::span<const mm::PhysRange> ram) {
    auto list = lib::virtio::parse_mmio_devices(cmdline);
    if (list.rejected)
        klog("virtio-mmio: ignored {} bad {} word(s), first '{}' ({})", list.rejected,
             lib::virtio::kMmioDeviceKey, list.first_rejected, lib::errno_name(list.first_error));
    if (list.dropped)
        klog("virtio-mmio: more than {} devices, {} ignored", lib::virtio::kMaxMmioDevices,
             list.dropped);
    for (const lib::virtio::MmioWindow& window : list.devices()) probe(window, ram);
}

}  // namespace kernel::drivers::virtio
