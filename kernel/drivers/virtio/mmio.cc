// virtio-mmio discovery, the status handshake and queue setup (virtio 1.2: 3.1.1 device
// initialization, 4.2.3.1 device checks, 4.2.3.2 virtqueue configuration).
#include "kernel/drivers/virtio/mmio.h"

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/console/log.h"
#include "kernel/mm/heap.h"
#include "kernel/mm/page_table.h"
#include "kernel/time/clock.h"
#include "lib/virtio/mmio_regs.h"
#include "lib/virtio/ring.h"

namespace kernel::drivers::virtio {

namespace {

namespace mmio = lib::virtio::mmio;
using lib::virtio::DriverQueue;

constexpr uint64_t kResetTimeoutNs = 100'000'000;

// Ring memory and buffers come from the physmap, where every byte of RAM is contiguous.
class PhysmapDma final : public lib::virtio::DmaTranslator {
public:
    lib::Result<uint64_t> device_address(const void* data, size_t length) const override {
        auto va = reinterpret_cast<uint64_t>(data);
        uint64_t ram = mm::highest_ram_address();
        if (va < arch::kPhysmapBase || va - arch::kPhysmapBase > ram ||
            length > ram - (va - arch::kPhysmapBase))
            return lib::Errno::Fault;
        return arch::virt_to_phys(data);
    }
};

const PhysmapDma g_dma;

MmioDevice g_devices[lib::virtio::kMaxMmioDevices];
bool g_claimed[lib::virtio::kMaxMmioDevices];
size_t g_device_count = 0;

uint16_t largest_power_of_two_at_most(uint32_t n) {
    uint16_t size = 1;
    while (size <= DriverQueue::kMaxSize / 2 && uint32_t(size) * 2 <= n) size *= 2;
    return n ? size : 0;
}

bool overlaps_ram(const lib::virtio::MmioWindow& window, std::span<const mm::PhysRange> ram) {
    for (const mm::PhysRange& range : ram)
        if (window.base < range.base + range.length && range.base < window.base + window.size)
            return true;
    return false;
}

}  // namespace

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

// 2.4.1: a reset is complete when the status reads back as 0.
lib::ErrorOr MmioDevice::reset() {
    write(mmio::kStatus, 0);
    uint64_t deadline = time::monotonic_ns() + kResetTimeoutNs;
    while (read(mmio::kStatus) != 0) {
        if (time::monotonic_ns() > deadline) return lib::Errno::TimedOut;
        arch::pause();
    }
    return {};
}

lib::Result<uint64_t> MmioDevice::negotiate(uint64_t wanted) {
    using namespace lib::virtio;
    TRY(reset());
    write(mmio::kStatus, kStatusAcknowledge);
    write(mmio::kStatus, kStatusAcknowledge | kStatusDriver);

    write(mmio::kDeviceFeaturesSel, 0);
    uint64_t offered = read(mmio::kDeviceFeatures);
    write(mmio::kDeviceFeaturesSel, 1);
    offered |= uint64_t(read(mmio::kDeviceFeatures)) << 32;
    // 6.1: a modern driver requires VERSION_1; 6.1 also asks it to accept ACCESS_PLATFORM,
    // harmless here since the addresses it gives are physical ones.
    uint64_t version_1 = uint64_t(1) << kFeatureVersion1;
    if (!(offered & version_1)) {
        fail();
        return lib::Errno::OpNotSupp;
    }
    uint64_t agreed = offered & (wanted | version_1 | uint64_t(1) << kFeatureAccessPlatform);
    write(mmio::kDriverFeaturesSel, 0);
    write(mmio::kDriverFeatures, uint32_t(agreed));
    write(mmio::kDriverFeaturesSel, 1);
    write(mmio::kDriverFeatures, uint32_t(agreed >> 32));

    write(mmio::kStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
    if (!(read(mmio::kStatus) & kStatusFeaturesOk)) {  // 3.1.1 step 6: the device said no
        fail();
        return lib::Errno::OpNotSupp;
    }
    return agreed;
}

lib::Result<DriverQueue*> MmioDevice::setup_queue(uint16_t index, uint16_t max_size) {
    if (index >= kMaxQueues || m_queues[index]) return lib::Errno::Inval;
    write(mmio::kQueueSel, index);
    if (read(mmio::kQueueReady) != 0) return lib::Errno::Busy;
    uint32_t num_max = read(mmio::kQueueNumMax);
    if (num_max == 0) return lib::Errno::NoEnt;  // no such queue
    uint16_t size = largest_power_of_two_at_most(num_max < max_size ? num_max : max_size);
    if (size == 0) return lib::Errno::Inval;

    size_t pages = (DriverQueue::ring_bytes(size) + arch::kPageSize - 1) / arch::kPageSize;
    uint64_t ring_phys = TRY(mm::alloc_frames(pages));
    DriverQueue* queue = mm::try_make<DriverQueue>();
    if (!queue) {
        mm::free_frames(ring_phys, pages);
        return lib::Errno::NoMem;
    }
    auto initialized = queue->init(
        size, {arch::phys_to_virt<std::byte>(ring_phys), pages * arch::kPageSize}, g_dma);
    if (initialized.is_error()) {
        delete queue;
        mm::free_frames(ring_phys, pages);
        return initialized.error();
    }
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

void MmioDevice::driver_ok() {
    write(mmio::kStatus, read(mmio::kStatus) | lib::virtio::kStatusDriverOk);
}

void MmioDevice::fail() { write(mmio::kStatus, read(mmio::kStatus) | lib::virtio::kStatusFailed); }

void MmioDevice::notify(uint16_t queue_index) { write(mmio::kQueueNotify, queue_index); }

uint32_t MmioDevice::read_config32(uint32_t offset) const { return read(mmio::kConfig + offset); }

uint64_t MmioDevice::read_config64(uint32_t offset) const {
    for (;;) {
        uint32_t generation = read(mmio::kConfigGeneration);
        uint64_t value = read_config32(offset) | uint64_t(read_config32(offset + 4)) << 32;
        if (read(mmio::kConfigGeneration) == generation) return value;
    }
}

uint32_t MmioDevice::acknowledge_interrupt() {
    uint32_t status = read(mmio::kInterruptStatus);
    if (status) write(mmio::kInterruptAck, status);
    return status;
}

const char* device_name(uint32_t device_id) {
    switch (device_id) {
        case lib::virtio::kDeviceNet:
            return "net";
        case lib::virtio::kDeviceBlock:
            return "block";
        case lib::virtio::kDeviceConsole:
            return "console";
        case lib::virtio::kDeviceRng:
            return "rng";
        default:
            return "unknown";
    }
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
    g_devices[g_device_count] = MmioDevice(window, registers.value(), device_id);
    g_claimed[g_device_count++] = false;
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

MmioDevice* claim_device(uint32_t device_id) {
    for (size_t i = 0; i < g_device_count; ++i) {
        if (g_claimed[i] || g_devices[i].device_id() != device_id) continue;
        g_claimed[i] = true;
        return &g_devices[i];
    }
    return nullptr;
}

}  // namespace kernel::drivers::virtio
