// virtio-net data path: transmit (5.1.6.2), receive with mergeable buffers (5.1.6.3, 5.1.6.4)
// and the configuration space (5.1.4).
#include "vmm/virtio/net.h"

#include <algorithm>
#include <cstring>

#include "lib/virtio/ring.h"
#include "vmm/net/checksum.h"

namespace vmm::virtio {

namespace {

using lib::Errno;

constexpr uint8_t kGsoNone = 0;

// 5.1.6: the header, as it lies in guest memory (little-endian fields).
struct NetHeader {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
    uint16_t num_buffers;
};
static_assert(sizeof(NetHeader) == VirtioNet::kHeaderBytes);

constexpr bool has(uint64_t features, unsigned bit) { return features & (uint64_t(1) << bit); }

}  // namespace

VirtioNet::VirtioNet(const GuestMemory& memory, net::MacAddress mac, net::NetBackend* backend)
    : m_memory(&memory), m_mac(mac), m_backend(backend) {}

uint32_t VirtioNet::device_id() const { return lib::virtio::kDeviceNet; }

uint64_t VirtioNet::device_features() const {
    uint64_t features = 0;
    for (unsigned bit : {kFeatureCsum, kFeatureGuestCsum, kFeatureMtu, kFeatureMac,
                         kFeatureMrgRxbuf, kFeatureStatus})
        features |= uint64_t(1) << bit;
    return features;
}

// 5.1.4: mac[6], status (le16), max_virtqueue_pairs (le16), mtu (le16).
void VirtioNet::read_config(uint64_t offset, std::span<std::byte> data) const {
    std::byte config[12] = {};
    std::memcpy(config, m_mac.data(), m_mac.size());
    uint16_t status = kStatusLinkUp, pairs = 1, mtu = kMtu;
    std::memcpy(config + 6, &status, 2);
    std::memcpy(config + 8, &pairs, 2);
    std::memcpy(config + 10, &mtu, 2);
    copy_config(config, offset, data);
}

lib::ErrorOr VirtioNet::activate(uint64_t features) {
    m_features = features;
    m_held.clear();  // chains of rings from before are not the driver's to give back now
    std::lock_guard lock(m_lock);
    m_active = true;
    return {};
}

void VirtioNet::reset() {
    m_features = 0;
    m_held.clear();
    std::lock_guard lock(m_lock);
    m_active = false;
    m_pending.clear();
}

VirtioNet::Counters VirtioNet::counters() const {
    std::lock_guard lock(m_lock);
    return m_counters;
}

lib::Result<bool> VirtioNet::queue_notify(uint16_t q, Virtqueue& queue) {
    if (q == kTxQueue) return transmit(queue);
    if (q == kRxQueue) return receive(queue);  // new buffers: frames may be waiting for them
    return false;
}

// --- Transmit -------------------------------------------------------------------------------

lib::Result<bool> VirtioNet::transmit(Virtqueue& queue) {
    bool used = false;
    // Bounded by the ring: pop() refuses an avail idx more than a ring's worth ahead.
    while (auto chain = TRY(queue.pop())) {
        transmit_one(*chain);
        TRY(queue.push_used(chain->head, 0));  // 5.1.6.2.2: nothing is written back
        used = true;
    }
    return used;
}

void VirtioNet::transmit_one(const DescriptorChain& chain) {
    auto drop = [&] {
        std::lock_guard lock(m_lock);
        ++m_counters.tx_dropped;
    };
    // 5.1.6.2: header then frame, all device-readable. Writable buffers have no business here.
    uint64_t total = chain.readable_bytes();
    if (!chain.writable.empty() || total < kHeaderBytes + 14 ||
        total - kHeaderBytes > net::kMaxFrameBytes)
        return drop();
    NetHeader header{};
    auto got = chain.read(*m_memory, std::as_writable_bytes(std::span(&header, 1)));
    if (got.is_error() || got.value() != kHeaderBytes) return drop();
    if (header.gso_type != kGsoNone) return drop();  // no HOST_TSO/UFO was offered
    m_tx_frame.resize(size_t(total - kHeaderBytes));
    got = chain.read(*m_memory, m_tx_frame, kHeaderBytes);
    if (got.is_error() || got.value() != m_tx_frame.size()) return drop();
    // 5.1.6.2.1: NEEDS_CSUM only with VIRTIO_NET_F_CSUM; the device then finishes it.
    if (header.flags & kHdrNeedsCsum) {
        if (!has(m_features, kFeatureCsum) ||
            !net::finish_checksum(m_tx_frame, header.csum_start, header.csum_offset))
            return drop();
    }
    {
        std::lock_guard lock(m_lock);
        ++m_counters.tx_frames;
    }
    if (m_backend) m_backend->send_frame(m_tx_frame);
}

// --- Receive --------------------------------------------------------------------------------

void VirtioNet::deliver_frame(std::span<const std::byte> frame) {
    {
        std::lock_guard lock(m_lock);
        if (!m_active || frame.size() > net::kMaxFrameBytes ||
            m_pending.size() >= kMaxPendingFrames) {
            ++m_counters.rx_dropped;
            return;
        }
        m_pending.emplace_back(frame.begin(), frame.end());
    }
    if (m_host)
        m_host->process_queue(kRxQueue, [this](Virtqueue& queue) { return receive(queue); });
}

lib::Result<bool> VirtioNet::receive(Virtqueue& queue) {
    std::lock_guard lock(m_lock);
    bool used = false;
    while (!m_pending.empty()) {
        const std::vector<std::byte>& frame = m_pending.front();
        size_t count = 0;
        if (!TRY(gather_chains(queue, kHeaderBytes + frame.size(), count))) {
            if (has(m_features, kFeatureMrgRxbuf) || m_held.empty()) break;  // wait for more
            // One chain too small for this frame (the driver's buffers are below 5.1.6.3.1's
            // minimum): drop the frame and keep the chain for the next.
            ++m_counters.rx_dropped;
            m_pending.pop_front();
            continue;
        }
        TRY(write_frame(queue, frame, count));
        ++m_counters.rx_frames;
        m_pending.pop_front();
        used = true;
    }
    return used;
}

lib::Result<bool> VirtioNet::gather_chains(Virtqueue& queue, size_t bytes, size_t& count) {
    bool mergeable = has(m_features, kFeatureMrgRxbuf);
    uint64_t room = 0;
    for (count = 0; count < m_held.size(); ++count) {
        room += m_held[count].writable_bytes();
        if (room >= bytes || !mergeable) break;
    }
    if (count < m_held.size()) {
        ++count;
        return room >= bytes;
    }
    while (room < bytes) {
        if (!mergeable && !m_held.empty()) return false;
        auto chain = TRY(queue.pop());
        if (!chain) return false;
        // 5.1.6.3.1: receive buffers are device-writable only, and each holds at least the
        // header (the first one must, and a driver that merges gives equal buffers).
        if (!chain->readable.empty() || chain->writable_bytes() < kHeaderBytes) return Errno::Inval;
        room += chain->writable_bytes();
        m_held.push_back(std::move(*chain));
        // num_buffers is 16 bits; a ring holds fewer chains than that anyway.
        if (m_held.size() >= lib::virtio::kMaxQueueSize) return Errno::Inval;
    }
    count = m_held.size();
    return true;
}

lib::ErrorOr VirtioNet::write_frame(Virtqueue& queue, const std::vector<std::byte>& frame,
                                    size_t count) {
    NetHeader header{};
    header.gso_type = kGsoNone;
    header.num_buffers = uint16_t(count);  // 1 without MRG_RXBUF (5.1.6.4)
    if (has(m_features, kFeatureGuestCsum) && net::checksums_valid(frame))
        header.flags = kHdrDataValid;
    auto header_bytes = std::as_bytes(std::span(&header, 1));
    std::vector<lib::virtio::VirtqUsedElem> used;
    used.reserve(count);
    size_t done = 0;  // of header + frame
    size_t total = kHeaderBytes + frame.size();
    for (size_t i = 0; i < count; ++i) {
        const DescriptorChain& chain = m_held[i];
        size_t room = size_t(std::min<uint64_t>(chain.writable_bytes(), total - done));
        size_t written = 0;
        if (done < kHeaderBytes) {  // the header is whole in the first chain (checked above)
            written += TRY(chain.write(*m_memory, header_bytes));
            done += kHeaderBytes;
        }
        size_t from = done - kHeaderBytes;
        size_t take = room - written;
        written += TRY(chain.write(*m_memory, std::span(frame).subspan(from, take), written));
        done += take;
        used.push_back({chain.head, uint32_t(written)});
    }
    m_held.erase(m_held.begin(), m_held.begin() + ptrdiff_t(count));
    return queue.push_used_all(used);
}

}  // namespace vmm::virtio
