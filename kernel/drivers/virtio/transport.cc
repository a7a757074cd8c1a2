// The transport-independent parts: the 3.1.1 handshake over each bus's status and feature
// registers, ring memory, and the table drivers claim devices from.
#include "kernel/drivers/virtio/transport.h"

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/console/log.h"
#include "kernel/mm/frames.h"
#include "kernel/mm/heap.h"
#include "kernel/time/clock.h"
#include "lib/base/format.h"
#include "lib/virtio/ring.h"

namespace kernel::drivers::virtio {

namespace {

using lib::virtio::DriverQueue;

constexpr uint64_t kResetTimeoutNs = 100'000'000;
constexpr size_t kMaxDevices = 32;

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

Transport* g_devices[kMaxDevices];
bool g_claimed[kMaxDevices];
size_t g_device_count = 0;

}  // namespace

void Transport::set_identity(uint32_t device_id, const char* location) {
    m_device_id = device_id;
    lib::BufferSink sink(m_location, sizeof(m_location));
    sink.write(location);
}

// 2.4.1: a reset is complete when the status reads back as 0.
lib::ErrorOr Transport::reset() {
    set_status(0);
    uint64_t deadline = time::monotonic_ns() + kResetTimeoutNs;
    while (status() != 0) {
        if (time::monotonic_ns() > deadline) return lib::Errno::TimedOut;
        arch::pause();
    }
    return {};
}

lib::Result<uint64_t> Transport::negotiate(uint64_t wanted) {
    using namespace lib::virtio;
    TRY(reset());
    set_status(kStatusAcknowledge);
    set_status(kStatusAcknowledge | kStatusDriver);
    uint64_t offered = device_features();
    if (legacy()) {
        // 3.1.2: the legacy handshake stops at writing the features; there are 32 of them.
        uint64_t agreed = offered & wanted & 0xffff'ffff;
        set_driver_features(agreed);
        return agreed;
    }
    // 6.1: a modern driver requires VERSION_1; 6.1 also asks it to accept ACCESS_PLATFORM,
    // harmless here since the addresses it gives are physical ones.
    uint64_t version_1 = uint64_t(1) << kFeatureVersion1;
    if (!(offered & version_1)) {
        fail();
        return lib::Errno::OpNotSupp;
    }
    uint64_t agreed = offered & (wanted | version_1 | uint64_t(1) << kFeatureAccessPlatform);
    set_driver_features(agreed);
    set_status(kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
    if (!(status() & kStatusFeaturesOk)) {  // 3.1.1 step 6: the device said no
        fail();
        return lib::Errno::OpNotSupp;
    }
    return agreed;
}

void Transport::driver_ok() { set_status(uint8_t(status() | lib::virtio::kStatusDriverOk)); }

void Transport::fail() { set_status(uint8_t(status() | lib::virtio::kStatusFailed)); }

uint16_t queue_size(uint32_t device_max, uint16_t wanted) {
    uint32_t limit = device_max < wanted ? device_max : wanted;
    if (limit > DriverQueue::kMaxSize) limit = DriverQueue::kMaxSize;
    if (limit == 0) return 0;
    uint16_t size = 1;
    while (uint32_t(size) * 2 <= limit) size = uint16_t(size * 2);
    return size;
}

lib::Result<DriverQueue*> allocate_queue(uint16_t size, lib::virtio::RingLayout layout) {
    size_t bytes = DriverQueue::ring_bytes(size, layout);
    if (bytes == 0) return lib::Errno::Inval;
    size_t pages = (bytes + arch::kPageSize - 1) / arch::kPageSize;
    uint64_t ring_phys = TRY(mm::alloc_frames(pages));
    DriverQueue* queue = mm::try_make<DriverQueue>();
    if (!queue) {
        mm::free_frames(ring_phys, pages);
        return lib::Errno::NoMem;
    }
    auto initialized = queue->init(
        size, {arch::phys_to_virt<std::byte>(ring_phys), pages * arch::kPageSize}, g_dma, layout);
    if (initialized.is_error()) {
        delete queue;
        mm::free_frames(ring_phys, pages);
        return initialized.error();
    }
    return queue;
}

void register_device(Transport& device) {
    if (g_device_count == kMaxDevices) {
        klog("virtio: more than {} devices, {} at {} ignored", kMaxDevices,
             device_name(device.device_id()), device.location());
        return;
    }
    g_claimed[g_device_count] = false;
    g_devices[g_device_count++] = &device;
}

Transport* claim_device(uint32_t device_id) {
    for (size_t i = 0; i < g_device_count; ++i) {
        if (g_claimed[i] || g_devices[i]->device_id() != device_id) continue;
        g_claimed[i] = true;
        return g_devices[i];
    }
    return nullptr;
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

}  // namespace kernel::drivers::virtio
