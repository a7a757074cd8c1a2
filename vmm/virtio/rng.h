// virtio-rng, the entropy device (virtio 1.2, section 5.4): one request queue whose writable
// buffers the device fills with bytes from the host's getrandom(2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "vmm/memory/guest_memory.h"
#include "vmm/virtio/device.h"

namespace vmm::virtio {

class VirtioRng final : public VirtioDevice {
public:
    static constexpr uint16_t kQueueSize = 256;
    // At most this many bytes per request: 5.4.6.2 lets the device fill less than offered.
    static constexpr size_t kMaxRequestBytes = 64 * 1024;

    // `memory` must outlive the device.
    explicit VirtioRng(const GuestMemory& memory);

    uint32_t device_id() const override;
    uint64_t device_features() const override { return 0; }
    uint16_t queue_count() const override { return 1; }
    uint16_t max_queue_size(uint16_t) const override { return kQueueSize; }
    lib::ErrorOr activate(uint64_t features) override;
    lib::Result<bool> queue_notify(uint16_t q, Virtqueue& queue) override;
    void reset() override {}

private:
    size_t fill(const DescriptorChain& chain);

    const GuestMemory* m_memory;
    std::vector<std::byte> m_scratch;
};

}  // namespace vmm::virtio
