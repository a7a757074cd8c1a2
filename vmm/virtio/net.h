// virtio-net (virtio 1.2, section 5.1): the VM's NIC, one receive queue (0) and one transmit
// queue (1), in front of a NetBackend. Frames the guest transmits go to the backend (their
// checksum finished first when the guest asked, VIRTIO_NET_F_CSUM); frames the backend
// delivers, on its own thread, wait in a bounded queue until the guest offers receive buffers
// (mergeable: one frame may fill several chains, VIRTIO_NET_F_MRG_RXBUF) and are dropped
// beyond it. Every chain is the guest's and checked by Virtqueue; frame contents are never
// trusted either.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "vmm/memory/guest_memory.h"
#include "vmm/net/backend.h"
#include "vmm/virtio/device.h"

namespace vmm::virtio {

class VirtioNet final : public VirtioDevice, public net::FrameSink {
public:
    static constexpr uint16_t kQueueSize = 256;
    static constexpr uint16_t kRxQueue = 0, kTxQueue = 1;
    static constexpr uint16_t kMtu = 1500;
    // Frames from the backend waiting for receive buffers; more are dropped.
    static constexpr size_t kMaxPendingFrames = 256;
    // 5.1.3 feature bits.
    static constexpr unsigned kFeatureCsum = 0, kFeatureGuestCsum = 1, kFeatureMtu = 3,
                              kFeatureMac = 5, kFeatureMrgRxbuf = 15, kFeatureStatus = 16;
    // 5.1.6: struct virtio_net_hdr with num_buffers (always there with VERSION_1).
    static constexpr size_t kHeaderBytes = 12;
    static constexpr uint8_t kHdrNeedsCsum = 1, kHdrDataValid = 2;
    static constexpr uint16_t kStatusLinkUp = 1;

    struct Counters {
        uint64_t tx_frames = 0;   // handed to the backend
        uint64_t tx_dropped = 0;  // malformed, too large, GSO, or a checksum out of bounds
        uint64_t rx_frames = 0;   // put in the guest's buffers
        uint64_t rx_dropped = 0;  // queue full, too large, not fitting, or the driver not ready
    };

    // `backend` may be null (transmitted frames are dropped). Both must outlive the device;
    // the device does not attach itself to the backend (the machine does, while it runs).
    VirtioNet(const GuestMemory& memory, net::MacAddress mac, net::NetBackend* backend);

    uint32_t device_id() const override;
    uint64_t device_features() const override;
    uint16_t queue_count() const override { return 2; }
    uint16_t max_queue_size(uint16_t) const override { return kQueueSize; }
    void read_config(uint64_t offset, std::span<std::byte> data) const override;
    lib::ErrorOr activate(uint64_t features) override;
    lib::Result<bool> queue_notify(uint16_t q, Virtqueue& queue) override;
    void reset() override;
    void attach_host(QueueHost& host) override { m_host = &host; }

    // From the backend's thread: queue the frame and move what fits into the guest's buffers.
    void deliver_frame(std::span<const std::byte> frame) override;

    Counters counters() const;
    const net::MacAddress& mac() const { return m_mac; }

private:
    lib::Result<bool> transmit(Virtqueue& queue);
    void transmit_one(const DescriptorChain& chain);
    // Moves pending frames into receive chains while both last. Transport lock held.
    lib::Result<bool> receive(Virtqueue& queue);
    // Takes chains until `bytes` fit (one chain without MRG_RXBUF). False: not enough chains
    // yet; those taken stay held for the next attempt.
    lib::Result<bool> gather_chains(Virtqueue& queue, size_t bytes, size_t& count);
    lib::ErrorOr write_frame(Virtqueue& queue, const std::vector<std::byte>& frame, size_t count);

    const GuestMemory* m_memory;
    net::MacAddress m_mac;
    net::NetBackend* m_backend;
    QueueHost* m_host = nullptr;
    // Under the transport's lock (every caller of the VirtioDevice interface holds it).
    uint64_t m_features = 0;
    std::deque<DescriptorChain> m_held;  // receive chains taken from the ring, not yet used
    std::vector<std::byte> m_tx_frame;
    // The backend's side, also taken inside the transport's lock (that order, never the other).
    mutable std::mutex m_lock;
    bool m_active = false;  // DRIVER_OK and not reset since: frames are worth keeping
    std::deque<std::vector<std::byte>> m_pending;
    Counters m_counters;
};

}  // namespace vmm::virtio
