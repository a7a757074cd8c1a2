// virtio-net over any transport. Receive: kRxBuffers device-writable 2 KiB buffers, each
// reposted as soon as its frame is handed on. Transmit: a slot per descriptor, the virtio
// header and the frame copied into it, reclaimed when the device is done.
#include "kernel/drivers/virtio/net.h"

#include <cstring>

#include "kernel/console/log.h"
#include "kernel/drivers/virtio/transport.h"
#include "kernel/mm/heap.h"
#include "kernel/sched/timer.h"
#include "kernel/time/clock.h"
#include "lib/virtio/ring.h"

namespace kernel::drivers::virtio {

namespace {

// 5.1.3 feature bits.
constexpr uint64_t kCsum = 1ull << 0, kGuestCsum = 1ull << 1, kMtu = 1ull << 3, kMac = 1ull << 5,
                   kMergeRxBuffers = 1ull << 15, kStatus = 1ull << 16;
constexpr uint16_t kQueueRx = 0, kQueueTx = 1;
constexpr uint16_t kRxBuffers = 128, kTxSlots = 128;
constexpr uint32_t kBufferBytes = 2048;
constexpr uint16_t kLinkUp = 1;
constexpr uint8_t kNeedsCsum = 1, kDataValid = 2;
// A device without an interrupt is looked at 1 ms after traffic, backing off to 16 ms while
// idle (where ring 0 is emulated each look costs tens of microseconds).
constexpr uint64_t kPollIntervalNs = 1'000'000, kPollIdleNs = 16'000'000;

// 5.1.6: the header in front of every frame (version 1: num_buffers always present).
struct [[gnu::packed]] NetHeader {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t header_length;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
    uint16_t num_buffers;
};
static_assert(sizeof(NetHeader) == 12);

class VirtioNet final : public lib::net::NetDevice {
public:
    lib::ErrorOr start(Transport& device, NetReceiver& receiver);

    bool transmit(std::span<const uint8_t> frame, const lib::net::TxMeta& meta) override;
    lib::net::MacAddress mac() const override { return m_mac; }
    uint16_t mtu() const override { return m_mtu; }
    bool checksum_offload() const override { return m_tx_csum; }

    // Drains both queues; true when a frame came in.
    bool service();

private:
    static void interrupt(void* self) { (void)static_cast<VirtioNet*>(self)->service(); }
    static void poll_tick(sched::Timer& timer);
    lib::ErrorOr post_rx(uint16_t index);
    bool drain_rx();
    void reclaim_tx();
    void broken(const char* where, lib::Errno why);

    Transport* m_device = nullptr;
    NetReceiver* m_receiver = nullptr;
    lib::virtio::DriverQueue* m_rx = nullptr;
    lib::virtio::DriverQueue* m_tx = nullptr;
    uint8_t* m_rx_memory = nullptr;                                    // kRxBuffers x kBufferBytes
    uint8_t* m_tx_memory = nullptr;                                    // kTxSlots x kBufferBytes
    uint16_t m_rx_buffer_of[lib::virtio::DriverQueue::kMaxSize] = {};  // head id -> buffer
    uint16_t m_tx_slot_of[lib::virtio::DriverQueue::kMaxSize] = {};
    uint16_t m_free_tx[kTxSlots] = {};
    uint16_t m_free_tx_count = 0;
    lib::net::MacAddress m_mac;
    uint16_t m_mtu = 1500;
    bool m_tx_csum = false;
    bool m_dead = false;
    sched::Timer m_poll{&VirtioNet::poll_tick, this};
    uint64_t m_poll_interval = kPollIntervalNs;
};

VirtioNet g_net;

lib::ErrorOr VirtioNet::start(Transport& device, NetReceiver& receiver) {
    m_device = &device;
    m_receiver = &receiver;
    uint64_t agreed =
        TRY(device.negotiate(kCsum | kGuestCsum | kMtu | kMac | kMergeRxBuffers | kStatus));
    m_tx_csum = agreed & kCsum;
    // 5.1.4: mac at 0, status at 6, mtu at 10.
    if (agreed & kMac) {
        uint32_t low = device.read_config32(0), high = device.read_config32(4);
        for (int i = 0; i < 4; ++i) m_mac.bytes[i] = uint8_t(low >> (8 * i));
        m_mac.bytes[4] = uint8_t(high), m_mac.bytes[5] = uint8_t(high >> 8);
    } else {
        m_mac = {{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};  // 5.1.5: the driver picks one
    }
    if (agreed & kMtu) {
        uint16_t mtu = uint16_t(device.read_config32(8) >> 16);
        if (mtu >= 576 && mtu <= kBufferBytes - sizeof(NetHeader) - 14) m_mtu = mtu;
    }
    m_rx = TRY(device.setup_queue(kQueueRx, kRxBuffers));
    m_tx = TRY(device.setup_queue(kQueueTx, kTxSlots));
    m_rx_memory = static_cast<uint8_t*>(mm::kmalloc(size_t{kRxBuffers} * kBufferBytes));
    m_tx_memory = static_cast<uint8_t*>(mm::kmalloc(size_t{kTxSlots} * kBufferBytes));
    if (!m_rx_memory || !m_tx_memory) return lib::Errno::NoMem;
    for (uint16_t i = 0; i < m_tx->size() && i < kTxSlots; ++i) m_free_tx[m_free_tx_count++] = i;
    m_tx->suppress_interrupts(true);  // slots are reclaimed on the next transmit
    bool interrupts = device.enable_interrupt(&VirtioNet::interrupt, this).has_value();
    m_rx->suppress_interrupts(!interrupts);
    device.driver_ok();
    for (uint16_t i = 0; i < m_rx->size() && i < kRxBuffers; ++i) TRY(post_rx(i));
    if (m_rx->needs_notify()) device.notify(kQueueRx);
    if (!interrupts) m_poll.arm(time::monotonic_ns() + kPollIntervalNs);
    bool up = !(agreed & kStatus) || (device.read_config32(4) >> 16 & kLinkUp);
    klog("virtio-net: {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} mtu {}{}{}{}", m_mac.bytes[0],
         m_mac.bytes[1], m_mac.bytes[2], m_mac.bytes[3], m_mac.bytes[4], m_mac.bytes[5], m_mtu,
         m_tx_csum ? ", tx csum" : "", agreed & kGuestCsum ? ", rx csum" : "",
         interrupts ? "" : ", polled");
    if (!up) klog("virtio-net: link is down");
    return {};
}

lib::ErrorOr VirtioNet::post_rx(uint16_t index) {
    const lib::virtio::DriverBuffer buffer{m_rx_memory + size_t{index} * kBufferBytes, kBufferBytes,
                                           true};
    uint16_t head = TRY(m_rx->add({&buffer, 1}));
    m_rx_buffer_of[head] = index;
    return {};
}

// Hands every received frame on and reposts its buffer; true when there was one.
bool VirtioNet::drain_rx() {
    bool any = false;
    for (;;) {
        auto used = m_rx->poll_used();
        if (used.is_error()) return broken("rx", used.error()), any;
        if (!used.value()) break;
        any = true;
        uint16_t index = m_rx_buffer_of[used.value()->id];
        const uint8_t* buffer = m_rx_memory + size_t{index} * kBufferBytes;
        uint32_t length = used.value()->length;
        if (length > sizeof(NetHeader)) {
            NetHeader header;
            memcpy(&header, buffer, sizeof(header));
            // Frames never span buffers: without guest GSO a frame fits one 2 KiB buffer, so
            // num_buffers > 1 means a device that ignored our features; such a frame is dropped
            // (its other buffers come as frames of their own and fail the parse above us).
            if (header.num_buffers <= 1)
                // NEEDS_CSUM: the frame comes from this host's own stack (a TAP under QEMU)
                // with its checksum left to finish, which no wire can have corrupted: as
                // good as verified (Linux's CHECKSUM_PARTIAL).
                m_receiver->frame_received(
                    {buffer + sizeof(header), length - sizeof(header)},
                    {.checksum_verified = bool(header.flags & (kDataValid | kNeedsCsum))});
        }
        if (auto posted = post_rx(index); posted.is_error())
            return broken("rx post", posted.error()), any;
    }
    if (any && m_rx->needs_notify()) m_device->notify(kQueueRx);
    return any;
}

void VirtioNet::reclaim_tx() {
    for (;;) {
        auto used = m_tx->poll_used();
        if (used.is_error()) return broken("tx", used.error());
        if (!used.value()) return;
        m_free_tx[m_free_tx_count++] = m_tx_slot_of[used.value()->id];
    }
}

bool VirtioNet::transmit(std::span<const uint8_t> frame, const lib::net::TxMeta& meta) {
    if (m_dead || frame.size() > kBufferBytes - sizeof(NetHeader)) return false;
    if (m_free_tx_count == 0) reclaim_tx();
    if (m_free_tx_count == 0 || m_dead) return false;
    uint16_t slot = m_free_tx[--m_free_tx_count];
    uint8_t* buffer = m_tx_memory + size_t{slot} * kBufferBytes;
    NetHeader header{};
    if (meta.checksum_partial && m_tx_csum) {
        header.flags = kNeedsCsum;
        header.csum_start = meta.checksum_start;
        header.csum_offset = uint16_t(meta.checksum_offset - meta.checksum_start);
    }
    memcpy(buffer, &header, sizeof(header));
    memcpy(buffer + sizeof(header), frame.data(), frame.size());
    const lib::virtio::DriverBuffer chain{buffer, uint32_t(sizeof(header) + frame.size()), false};
    auto head = m_tx->add({&chain, 1});
    if (head.is_error()) {
        m_free_tx[m_free_tx_count++] = slot;
        return false;
    }
    m_tx_slot_of[head.value()] = slot;
    if (m_tx->needs_notify()) m_device->notify(kQueueTx);
    return true;
}

bool VirtioNet::service() {
    if (m_dead) return false;
    bool received = false;
    // Acknowledge, then drain: a buffer used after the acknowledgement raises the cause again
    // (and, edge-triggered, a new interrupt); one used before it is in the ring read next.
    // Again until the cause stays clear, so that no edge is ever needed twice.
    for (int round = 0; round < 64 && !m_dead; ++round) {
        uint32_t cause = m_device->acknowledge_interrupt();
        received |= drain_rx();
        reclaim_tx();
        if (cause == 0) break;
    }
    m_receiver->batch_done();
    return received;
}

void VirtioNet::poll_tick(sched::Timer& timer) {
    auto* self = static_cast<VirtioNet*>(timer.context());
    if (self->service())
        self->m_poll_interval = kPollIntervalNs;
    else if (self->m_poll_interval < kPollIdleNs)
        self->m_poll_interval *= 2;
    if (!self->m_dead) timer.arm(time::monotonic_ns() + self->m_poll_interval);
}

void VirtioNet::broken(const char* where, lib::Errno why) {
    klog("virtio-net: the device broke its {} queue ({}); network down", where,
         lib::errno_name(why));
    m_dead = true;
    m_device->fail();
}

}  // namespace

lib::net::NetDevice* init_net(NetReceiver& receiver) {
    Transport* device = claim_device(lib::virtio::kDeviceNet);
    if (!device) return nullptr;
    if (auto started = g_net.start(*device, receiver); started.is_error()) {
        klog("virtio-net: cannot start the device at {}: {}", device->location(),
             lib::errno_name(started.error()));
        device->fail();
        return nullptr;
    }
    return &g_net;
}

}  // namespace kernel::drivers::virtio
