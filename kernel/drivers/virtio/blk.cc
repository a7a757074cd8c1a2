// virtio-blk over any transport: header, data, status chains on one request queue.
#include "kernel/drivers/virtio/blk.h"

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/console/log.h"
#include "kernel/drivers/virtio/transport.h"
#include "kernel/mm/heap.h"
#include "kernel/time/clock.h"
#include "lib/virtio/ring.h"

namespace kernel::drivers::virtio {

namespace {

constexpr uint32_t kFeatureSizeMax = 1, kFeatureSegMax = 2, kFeatureReadOnly = 5, kFeatureBlockSize = 6;
constexpr uint32_t kRequestIn = 0;  // 5.2.6: VIRTIO_BLK_T_IN
constexpr uint8_t kStatusOk = 0;
constexpr uint16_t kQueueSize = 8;
// One request's data never exceeds this (the device may cap it lower with size_max).
constexpr uint32_t kMaxRequestBytes = 1u << 20;
// A host reading a file for us: generous, but a dead device must not hang the boot. The tick
// floor (about 13 s at 2.6 GHz) guards against a clock calibrated far too slow (time::Deadline).
constexpr uint64_t kRequestTimeoutNs = 5'000'000'000;
constexpr uint64_t kRequestMinTicks = 1ull << 35;

struct [[gnu::packed]] RequestHeader {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

class VirtioBlk final : public BlockDisk {
public:
    lib::ErrorOr start(Transport& device);
    uint64_t capacity_bytes() const override { return m_capacity; }
    bool read_only() const override { return m_read_only; }
    lib::ErrorOr read(uint64_t offset, void* buffer, size_t length) override;

private:
    lib::ErrorOr request(uint64_t sector, void* buffer, uint32_t length);
    void abandon(lib::Errno why);

    Transport* m_device = nullptr;
    lib::virtio::DriverQueue* m_queue = nullptr;
    RequestHeader* m_header = nullptr;  // heap (physmap) memory the device reads
    uint8_t* m_status = nullptr;        // and writes
    uint64_t m_capacity = 0;
    uint32_t m_max_request = kMaxRequestBytes;
    bool m_read_only = false;
};

VirtioBlk g_disk;

lib::ErrorOr VirtioBlk::start(Transport& device) {
    m_device = &device;
    uint64_t agreed = TRY(device.negotiate(uint64_t(1) << kFeatureReadOnly | uint64_t(1) << kFeatureSizeMax |
                                           uint64_t(1) << kFeatureSegMax | uint64_t(1) << kFeatureBlockSize));
    m_read_only = agreed & (uint64_t(1) << kFeatureReadOnly);
    // 5.2.4: capacity in 512-byte sectors at 0; size_max at 8 when offered.
    uint64_t sectors = device.read_config64(0);
    if (sectors > (~uint64_t(0) >> 9)) return lib::Errno::Io;
    m_capacity = sectors * kSectorSize;
    if (agreed & (uint64_t(1) << kFeatureSizeMax)) {
        uint32_t size_max = device.read_config32(8);
        if (size_max >= kSectorSize && size_max < m_max_request) m_max_request = size_max & ~(kSectorSize - 1);
    }
    m_queue = TRY(device.setup_queue(0, kQueueSize));
    m_header = static_cast<RequestHeader*>(mm::kmalloc(sizeof(RequestHeader)));
    m_status = static_cast<uint8_t*>(mm::kmalloc(1));
    if (!m_header || !m_status) return lib::Errno::NoMem;
    device.driver_ok();
    return {};
}

lib::ErrorOr VirtioBlk::request(uint64_t sector, void* buffer, uint32_t length) {
    *m_header = {kRequestIn, 0, sector};
    *m_status = 0xff;  // a device that completes without writing the status is lying
    const lib::virtio::DriverBuffer chain[] = {
        {m_header, sizeof(RequestHeader), false},
        {buffer, length, true},
        {m_status, 1, true},
    };
    TRY(m_queue->add(chain));
    if (m_queue->needs_notify()) m_device->notify(0);
    time::Deadline deadline(kRequestTimeoutNs, kRequestMinTicks);
    // FIXME(#5): sleep until the used-buffer interrupt instead of polling.
    for (;;) {
        auto used = TRY(m_queue->poll_used());
        if (used) {
            // 5.2.6: the device wrote the data and then the status byte.
            if (used->length < 1 || *m_status != kStatusOk) return lib::Errno::Io;
            return {};
        }
        if (deadline.passed()) return lib::Errno::TimedOut;
        arch::pause();
    }
}

lib::ErrorOr VirtioBlk::read(uint64_t offset, void* buffer, size_t length) {
    if (!m_queue) return lib::Errno::Io;
    if (offset % kSectorSize || length % kSectorSize || offset > m_capacity || length > m_capacity - offset)
        return lib::Errno::Inval;
    auto* out = static_cast<std::byte*>(buffer);
    size_t done = 0;
    while (done < length) {
        uint32_t chunk = uint32_t(length - done < m_max_request ? length - done : m_max_request);
        auto result = request((offset + done) / kSectorSize, out + done, chunk);
        if (result.is_error()) {
            abandon(result.error());
            return lib::Errno::Io;
        }
        done += chunk;
    }
    return {};
}

// A device that failed a request may still be writing to our memory: it is left alone for good.
void VirtioBlk::abandon(lib::Errno why) {
    klog("virtio-blk: request failed ({}), disk abandoned", lib::errno_name(why));
    m_device->fail();
    m_queue = nullptr;
}

}  // namespace

BlockDisk* init_blk() {
    Transport* device = claim_device(lib::virtio::kDeviceBlock);
    if (!device) return nullptr;
    if (auto started = g_disk.start(*device); started.is_error()) {
        klog("virtio-blk: cannot start the device at {}: {}", device->location(),
             lib::errno_name(started.error()));
        device->fail();
        return nullptr;
    }
    klog("virtio-blk: {} MiB{}", g_disk.capacity_bytes() >> 20, g_disk.read_only() ? ", read-only" : "");
    return &g_disk;
}

}  // namespace kernel::drivers::virtio
