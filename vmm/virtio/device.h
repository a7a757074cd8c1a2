// What a virtio device type (rng, block, net, ...) provides to a transport: identity, features,
// queues, configuration space and request handling. The transport owns the status state
// machine, feature negotiation, the queues and interrupts; a device only sees chains.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>

#include "lib/base/result.h"
#include "vmm/virtio/queue.h"

namespace vmm::virtio {

// What a device that produces work on its own (a NIC receiving frames on a backend's thread)
// asks of its transport: run `work` on queue `q` under the transport's lock, exactly as for a
// driver notification (nothing runs before DRIVER_OK, after DEVICE_NEEDS_RESET or on a queue
// that is not ready; an error puts the device in DEVICE_NEEDS_RESET), then interrupt the driver
// when `work` returned chains and the driver wants to hear. Thread-safe.
class QueueHost {
public:
    virtual ~QueueHost() = default;
    virtual void process_queue(uint16_t q, const std::function<lib::Result<bool>(Virtqueue&)>& work) = 0;
};

class VirtioDevice {
public:
    virtual ~VirtioDevice() = default;

    virtual uint32_t device_id() const = 0;
    // Device-specific feature bits. The transport adds the ring features it implements itself
    // (VERSION_1, INDIRECT_DESC, EVENT_IDX).
    virtual uint64_t device_features() const = 0;
    virtual uint16_t queue_count() const = 0;
    // A power of two in [1, kMaxQueueSize]; only called with q < queue_count().
    virtual uint16_t max_queue_size(uint16_t q) const = 0;

    // Device-specific configuration space (offset 0 = the transport's config window). Any
    // offset and width may arrive from the guest; bytes past the end read as zero, writes to
    // them are ignored. copy_config() below does that bounding.
    virtual void read_config(uint64_t offset, std::span<std::byte> data) const {
        std::fill(data.begin(), data.end(), std::byte{0});
        (void)offset;
    }
    virtual void write_config(uint64_t offset, std::span<const std::byte> data) {
        (void)offset;
        (void)data;
    }

    // DRIVER_OK: the driver accepted `features` (a subset of what was offered) and set up its
    // queues. An error puts the device in DEVICE_NEEDS_RESET.
    virtual lib::ErrorOr activate(uint64_t features) = 0;
    // The driver notified queue `q` (ready, after DRIVER_OK). Process what is available and
    // return whether any chain was returned to the used ring (the transport then asks the
    // queue whether the driver wants an interrupt). An error means the driver broke the rules:
    // the transport sets DEVICE_NEEDS_RESET and stops using the device until it is reset.
    virtual lib::Result<bool> queue_notify(uint16_t q, Virtqueue& queue) = 0;
    // Status = 0: forget everything negotiated, back to the power-on state.
    virtual void reset() = 0;
    // The transport in front of the device, given once by the transport's constructor; it
    // outlives the device's use of it. Devices that only answer notifications ignore it.
    virtual void attach_host(QueueHost& host) { (void)host; }
};

// Reads `out.size()` bytes of `config` at `offset`, zero past its end; never reads outside it.
inline void copy_config(std::span<const std::byte> config, uint64_t offset,
                        std::span<std::byte> out) {
    std::fill(out.begin(), out.end(), std::byte{0});
    if (offset >= config.size()) return;
    size_t count = std::min<uint64_t>(out.size(), config.size() - offset);
    std::memcpy(out.data(), config.data() + offset, count);
}

}  // namespace vmm::virtio
