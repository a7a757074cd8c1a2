// virtio-blk (virtio 1.2, section 5.2), read-only: the Phoenix disk image. Reads go from the
// image file straight into the guest's buffers (pread into checked GuestMemory slices); the
// kernel keeps its writes in memory (an overlay), so the device offers VIRTIO_BLK_F_RO and
// refuses writes, and every boot sees the image exactly as built.
#pragma once

#include <cstdint>
#include <string>

#include "vmm/memory/guest_memory.h"
#include "vmm/virtio/device.h"

namespace vmm::virtio {

class VirtioBlk final : public VirtioDevice {
public:
    static constexpr uint16_t kQueueSize = 128;
    static constexpr uint32_t kSectorSize = 512;
    static constexpr uint32_t kSegMax = 126;
    static constexpr uint32_t kFeatureSegMax = 2, kFeatureReadOnly = 5, kFeatureFlush = 9;

    // `fd`: the image, open for reading, `size` bytes (whole sectors are served; a partial
    // last sector is not). Neither is owned; both must outlive the device.
    VirtioBlk(const GuestMemory& memory, int fd, uint64_t size);

    uint32_t device_id() const override;
    uint64_t device_features() const override;
    uint16_t queue_count() const override { return 1; }
    uint16_t max_queue_size(uint16_t) const override { return kQueueSize; }
    void read_config(uint64_t offset, std::span<std::byte> data) const override;
    lib::ErrorOr activate(uint64_t) override { return {}; }
    lib::Result<bool> queue_notify(uint16_t q, Virtqueue& queue) override;
    void reset() override {}

private:
    // Carries out one request; returns the bytes written into the chain (data + status).
    uint32_t serve(const DescriptorChain& chain);
    // Reads `length` image bytes at `offset` into the writable buffers; false on any error.
    bool read_into(const DescriptorChain& chain, uint64_t offset, uint64_t length);

    const GuestMemory* m_memory;
    int m_fd;
    uint64_t m_sectors;
};

}  // namespace vmm::virtio
