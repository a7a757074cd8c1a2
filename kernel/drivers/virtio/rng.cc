// virtio-rng: one device-writable buffer at a time, polled to completion with a deadline.
#include "kernel/drivers/virtio/rng.h"

#include <cstring>

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/console/log.h"
#include "kernel/drivers/virtio/transport.h"
#include "kernel/mm/heap.h"
#include "kernel/time/clock.h"
#include "lib/virtio/ring.h"

namespace kernel::drivers::virtio {

namespace {

constexpr uint16_t kQueueSize = 4;  // one request in flight at a time is all boot needs
constexpr size_t kRequestBytes = 64;
// How long a read may wait for the device: 100 ms by the clock, and never fewer than 2^28 TSC
// ticks (about 100 ms at 2.6 GHz; see time::Deadline).
constexpr uint64_t kReadTimeoutNs = 100'000'000;
constexpr uint64_t kReadMinTicks = 1ull << 28;

class VirtioRng final : public random::EntropySource {
public:
    lib::ErrorOr start(Transport& device);
    const char* name() const override { return "virtio-rng"; }
    size_t read(std::span<std::byte> out) override;

private:
    lib::Result<size_t> request(std::span<std::byte> out, const time::Deadline& deadline);
    void abandon(lib::Errno why, size_t bytes_so_far);

    Transport* m_device = nullptr;
    lib::virtio::DriverQueue* m_queue = nullptr;
    std::byte* m_buffer = nullptr;  // kRequestBytes of heap memory (physmap), the device's
};

VirtioRng g_virtio_rng;

lib::ErrorOr VirtioRng::start(Transport& device) {
    m_device = &device;
    TRY(device.negotiate(0));                          // 5.4.3: no device-specific features
    m_queue = TRY(device.setup_queue(0, kQueueSize));  // 5.4.2: requestq
    m_buffer = static_cast<std::byte*>(mm::kmalloc(kRequestBytes));
    if (!m_buffer) return lib::Errno::NoMem;
    device.driver_ok();
    return {};
}

// 5.4.6: the driver offers a writable buffer; the device fills some or all of it.
lib::Result<size_t> VirtioRng::request(std::span<std::byte> out, const time::Deadline& deadline) {
    uint32_t length = uint32_t(out.size() < kRequestBytes ? out.size() : kRequestBytes);
    lib::virtio::DriverBuffer buffer{m_buffer, length, true};
    TRY(m_queue->add({&buffer, 1}));
    if (m_queue->needs_notify()) m_device->notify(0);
    // FIXME(#5): wait for the used-buffer interrupt instead of polling.
    for (;;) {
        auto used = TRY(m_queue->poll_used());
        if (used) {
            std::memcpy(out.data(), m_buffer, used->length);  // length <= `length`: checked
            return size_t(used->length);
        }
        if (deadline.passed()) return lib::Errno::TimedOut;
        arch::pause();
    }
}

size_t VirtioRng::read(std::span<std::byte> out) {
    if (!m_queue) return 0;
    time::Deadline deadline(kReadTimeoutNs, kReadMinTicks);
    size_t done = 0;
    while (done < out.size()) {
        auto got = request(out.subspan(done), deadline);
        if (got.is_error()) {
            abandon(got.error(), done);
            break;
        }
        done += got.value();
    }
    return done;
}

// A device that timed out or lied is left alone for good; its buffer and rings stay its own,
// since it may still write to them.
void VirtioRng::abandon(lib::Errno why, size_t bytes_so_far) {
    klog("virtio-rng: {} after {} bytes, device abandoned", lib::errno_name(why), bytes_so_far);
    m_device->fail();
    m_queue = nullptr;
}

}  // namespace

random::EntropySource* init_rng() {
    Transport* device = claim_device(lib::virtio::kDeviceRng);
    if (!device) return nullptr;
    if (auto started = g_virtio_rng.start(*device); started.is_error()) {
        klog("virtio-rng: cannot start the device at {}: {}", device->location(),
             lib::errno_name(started.error()));
        device->fail();
        return nullptr;
    }
    return &g_virtio_rng;
}

}  // namespace kernel::drivers::virtio
