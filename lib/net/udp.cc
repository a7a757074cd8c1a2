// UDP (RFC 768, RFC 1122 §4.1): sockets, port binding with SO_REUSEADDR/SO_REUSEPORT,
// datagram queues bounded in bytes, checksums, and ICMP errors for connected sockets.
#include "lib/net/udp.h"

#include <new>

#include "lib/net/bytes.h"

namespace lib::net {

namespace {
constexpr size_t kUdpHeaderSize = 8;
constexpr size_t kMaxPayload = 65507;  // 65535 - IPv4 header - UDP header
constexpr uint16_t kEphemeralFirst = 32768, kEphemeralLast = 60999;  // Linux's range
constexpr uint32_t kDefaultReceiveBuffer = 212992;  // Linux's net.core.rmem_default
constexpr uint32_t kMinReceiveBuffer = 2048, kMaxReceiveBuffer = 16u << 20;
// Each queued datagram is charged this much beyond its bytes (as Linux charges skb truesize),
// so a flood of empty datagrams is bounded too.
constexpr size_t kDatagramOverhead = 256;

struct Datagram {
    Datagram* next;
    Endpoint from;
    size_t size;
    uint8_t* bytes() { return reinterpret_cast<uint8_t*>(this + 1); }
};
}  // namespace

struct UdpSocket::State {
    UdpSocket handle;
    UdpLayer::Impl* layer = nullptr;
    State* prev = nullptr;
    State* next = nullptr;
    bool bound = false;
    Endpoint local;
    bool connected = false;
    Endpoint remote;
    bool address_from_connect = false;
    bool reuse_address = false, reuse_port = false, broadcast = false;
    bool shut_read = false, shut_write = false;
    Errno error{};
    uint32_t receive_buffer = kDefaultReceiveBuffer;
    uint32_t send_buffer = kDefaultReceiveBuffer;
    Datagram* head = nullptr;
    Datagram* tail = nullptr;
    size_t queued = 0;  // charged bytes
    SocketObserver* observer = nullptr;

    void notify(uint32_t events) {
        if (observer) observer->socket_changed(events);
    }
};

struct UdpLayer::Impl {
    IpOutput& ip;
    NetEnv& env;
    UdpSocket::State* sockets = nullptr;
    void (*unreachable)(const IncomingPacket&, void*) = nullptr;
    void* unreachable_context = nullptr;
    uint64_t bad = 0, dropped = 0;

    bool port_free(const UdpSocket::State& who, Endpoint local) const;
    Result<uint16_t> ephemeral_port(const UdpSocket::State& who, Ipv4Address address);
    UdpSocket::State* lookup(const IncomingPacket& packet, uint16_t source, uint16_t dest);
    void enqueue(UdpSocket::State& s, const IncomingPacket& p, uint16_t port,
                 std::span<const uint8_t> data);
};

// RFC 1122 §4.1.3.4-style sharing as Linux does it: two sockets may hold the same port when
// both ask (SO_REUSEADDR or SO_REUSEPORT on both) or their addresses differ and neither is
// the wildcard.
bool UdpLayer::Impl::port_free(const UdpSocket::State& who, Endpoint local) const {
    for (const UdpSocket::State* s = sockets; s; s = s->next) {
        if (s == &who || !s->bound || s->local.port != local.port) continue;
        bool overlap = s->local.address.is_any() || local.address.is_any() ||
                       s->local.address == local.address;
        if (!overlap) continue;
        if ((s->reuse_address && who.reuse_address) || (s->reuse_port && who.reuse_port)) continue;
        return false;
    }
    return true;
}

Result<uint16_t> UdpLayer::Impl::ephemeral_port(const UdpSocket::State& who, Ipv4Address address) {
    constexpr uint32_t range = kEphemeralLast - kEphemeralFirst + 1;
    // A random start, then a walk over the range (RFC 6056 §3.3.1's simple algorithm).
    uint32_t start = static_cast<uint32_t>(env.random_u64() % range);
    for (uint32_t i = 0; i < range; ++i) {
        auto port = static_cast<uint16_t>(kEphemeralFirst + (start + i) % range);
        if (port_free(who, {address, port})) return port;
    }
    return Errno::AddrInUse;
}

ErrorOr UdpSocket::bind(Endpoint local) {
    State& s = *m_state;
    if (s.bound) return Errno::Inval;
    if (!local.address.is_multicast() && !local.address.is_broadcast() &&
        !s.layer->ip.is_local(local.address))
        return Errno::AddrNotAvail;
    if (local.port == 0) {
        local.port = TRY(s.layer->ephemeral_port(s, local.address));
    } else if (!s.layer->port_free(s, local)) {
        return Errno::AddrInUse;
    }
    s.local = local;
    s.bound = true;
    return {};
}

ErrorOr UdpSocket::connect(Endpoint remote) {
    State& s = *m_state;
    if (remote.address.is_any()) {
        // AF_UNSPEC: dissolve; an address chosen by connect goes back to the wildcard.
        s.connected = false;
        s.remote = {};
        if (s.address_from_connect) s.local.address = kAnyAddress;
        s.address_from_connect = false;
        return {};
    }
    if (remote.address.is_broadcast() && !s.broadcast) return Errno::Access;
    Ipv4Address source = s.local.address;
    if (source.is_any()) {
        source = s.layer->ip.source_for(remote.address);
        if (source.is_any()) return Errno::NetUnreach;
    }
    if (!s.bound) TRY(bind({kAnyAddress, 0}));
    if (s.local.address.is_any()) {
        s.local.address = source;
        s.address_from_connect = true;
    }
    s.connected = true;
    s.remote = remote;
    s.error = Errno{};
    return {};
}

Result<size_t> UdpSocket::send_to(std::span<const uint8_t> data, std::optional<Endpoint> to) {
    State& s = *m_state;
    if (s.shut_write) return Errno::Pipe;
    if (s.error != Errno{}) return take_error();
    Endpoint destination;
    if (to) {
        destination = *to;
    } else if (s.connected) {
        destination = s.remote;
    } else {
        return Errno::DestAddrReq;
    }
    if (data.size() > kMaxPayload) return Errno::MsgSize;
    if (destination.port == 0) return Errno::Inval;
    if (destination.address.is_broadcast() && !s.broadcast) return Errno::Access;
    Ipv4Address source = s.local.address;
    if (source.is_any() || source.is_broadcast() || source.is_multicast())
        source = s.layer->ip.source_for(destination.address);
    if (source.is_any()) return Errno::NetUnreach;
    if (!s.bound) TRY(bind({kAnyAddress, 0}));
    auto length = static_cast<uint16_t>(kUdpHeaderSize + data.size());
    uint8_t header[kUdpHeaderSize];
    store_be16(header, s.local.port);
    store_be16(header + 2, destination.port);
    store_be16(header + 4, length);
    store_be16(header + 6, checksum_fold(pseudo_header_sum(source.value, destination.address.value,
                                                           kProtocolUdp, length)));
    OutgoingPacket packet;
    packet.source = source;
    packet.destination = destination.address;
    packet.protocol = kProtocolUdp;
    packet.header = header;
    packet.payload[0] = data;
    packet.checksum_offset = 6;
    packet.dont_fragment = false;  // Linux's default for UDP: fragment locally
    TRY(s.layer->ip.send(packet));
    return data.size();
}

Result<UdpSocket::Received> UdpSocket::receive_from(std::span<uint8_t> buffer, bool peek) {
    State& s = *m_state;
    if (s.error != Errno{}) return take_error();
    Datagram* d = s.head;
    if (!d) {
        if (s.shut_read) return Received{0, 0, {}};
        return Errno::Again;
    }
    size_t copied = d->size < buffer.size() ? d->size : buffer.size();
    if (copied) __builtin_memcpy(buffer.data(), d->bytes(), copied);
    Received received{copied, d->size, d->from};
    if (!peek) {
        s.head = d->next;
        if (!s.head) s.tail = nullptr;
        s.queued -= d->size + kDatagramOverhead;
        delete[] reinterpret_cast<uint8_t*>(d);
    }
    return received;
}

ErrorOr UdpSocket::shutdown(bool read, bool write) {
    State& s = *m_state;
    if (!s.connected) return Errno::NotConn;  // as Linux for datagram sockets
    s.shut_read |= read;
    s.shut_write |= write;
    s.notify(events::kReadable | events::kWritable | (read ? events::kRdHup : 0));
    return {};
}

void UdpSocket::close() {
    State* s = m_state;
    UdpLayer::Impl& layer = *s->layer;
    while (Datagram* d = s->head) {
        s->head = d->next;
        delete[] reinterpret_cast<uint8_t*>(d);
    }
    (s->prev ? s->prev->next : layer.sockets) = s->next;
    if (s->next) s->next->prev = s->prev;
    delete s;
}

uint32_t UdpSocket::poll_events() const {
    const State& s = *m_state;
    uint32_t bits = events::kWritable;
    if (s.head || s.shut_read) bits |= events::kReadable;
    if (s.shut_read) bits |= events::kRdHup;
    if (s.error != Errno{}) bits |= events::kErr;
    return bits;
}

Errno UdpSocket::take_error() {
    Errno e = m_state->error;
    m_state->error = Errno{};
    return e;
}

Endpoint UdpSocket::local() const { return m_state->local; }

std::optional<Endpoint> UdpSocket::remote() const {
    if (!m_state->connected) return std::nullopt;
    return m_state->remote;
}

size_t UdpSocket::next_datagram_size() const { return m_state->head ? m_state->head->size : 0; }

void UdpSocket::set_receive_buffer(uint32_t bytes) {
    if (bytes < kMinReceiveBuffer) bytes = kMinReceiveBuffer;
    if (bytes > kMaxReceiveBuffer) bytes = kMaxReceiveBuffer;
    m_state->receive_buffer = bytes;
}

void UdpSocket::set_send_buffer(uint32_t bytes) { m_state->send_buffer = bytes; }

void UdpSocket::set_reuse(bool address, bool port) {
    m_state->reuse_address = address;
    m_state->reuse_port = port;
}

void UdpSocket::set_broadcast(bool allowed) { m_state->broadcast = allowed; }

void UdpSocket::set_observer(SocketObserver* observer) { m_state->observer = observer; }

UdpLayer::UdpLayer(IpOutput& ip, NetEnv& env) {
    m_impl = new (std::nothrow) Impl{ip, env};
    if (!m_impl) __builtin_trap();  // see Stack::Stack: a constructor cannot fail politely
}

UdpLayer::~UdpLayer() {
    while (m_impl->sockets) m_impl->sockets->handle.close();
    delete m_impl;
}

Result<UdpSocket*> UdpLayer::create() {
    auto* s = new (std::nothrow) UdpSocket::State;
    if (!s) return Errno::NoMem;
    s->handle.m_state = s;
    s->layer = m_impl;
    s->next = m_impl->sockets;
    if (s->next) s->next->prev = s;
    m_impl->sockets = s;
    return &s->handle;
}

void UdpLayer::set_unreachable_hook(void (*hook)(const IncomingPacket&, void*), void* context) {
    m_impl->unreachable = hook;
    m_impl->unreachable_context = context;
}

void UdpLayer::Impl::enqueue(UdpSocket::State& s, const IncomingPacket& p, uint16_t port,
                             std::span<const uint8_t> data) {
    if (s.shut_read) return;
    size_t charge = data.size() + kDatagramOverhead;
    // Like Linux, an empty queue always takes one datagram, however large.
    if (s.head && s.queued + charge > s.receive_buffer) {
        ++dropped;
        return;
    }
    auto* raw = new (std::nothrow) uint8_t[sizeof(Datagram) + data.size()];
    if (!raw) {
        ++dropped;
        return;
    }
    auto* d = new (raw) Datagram{nullptr, {p.source, port}, data.size()};
    if (!data.empty()) __builtin_memcpy(d->bytes(), data.data(), data.size());
    (s.tail ? s.tail->next : s.head) = d;
    s.tail = d;
    s.queued += charge;
    s.notify(events::kReadable);
}

void UdpLayer::input(const IncomingPacket& p) {
    Impl& impl = *m_impl;
    std::span<const uint8_t> bytes = p.payload;
    if (bytes.size() < kUdpHeaderSize) {
        ++impl.bad;
        return;
    }
    size_t length = load_be16(&bytes[4]);
    if (length < kUdpHeaderSize || length > bytes.size()) {
        ++impl.bad;
        return;
    }
    bytes = bytes.first(length);
    // RFC 768: a zero checksum field means the sender computed none.
    if (load_be16(&bytes[6]) != 0 && !p.checksum_verified) {
        uint32_t sum = pseudo_header_sum(p.source.value, p.destination.value, kProtocolUdp,
                                         static_cast<uint16_t>(length));
        if (checksum_fold(checksum_add(sum, bytes)) != 0xffff) {
            ++impl.bad;
            return;
        }
    }
    uint16_t source_port = load_be16(&bytes[0]);
    uint16_t dest_port = load_be16(&bytes[2]);
    std::span<const uint8_t> data = bytes.subspan(kUdpHeaderSize);
    bool multi = p.destination.is_broadcast() || p.destination.is_multicast() ||
                 !impl.ip.is_local(p.destination);
    if (multi) {
        // Broadcast and multicast go to every socket that would take them.
        bool any = false;
        for (UdpSocket::State* s = impl.sockets; s; s = s->next) {
            if (!s->bound || s->local.port != dest_port) continue;
            if (!s->local.address.is_any() && s->local.address != p.destination) continue;
            if (s->connected && (s->remote.address != p.source || s->remote.port != source_port))
                continue;
            impl.enqueue(*s, p, source_port, data);
            any = true;
        }
        if (!any) ++impl.dropped;
        return;
    }
    UdpSocket::State* s = impl.lookup(p, source_port, dest_port);
    if (!s) {
        ++impl.dropped;
        if (impl.unreachable) impl.unreachable(p, impl.unreachable_context);
        return;
    }
    impl.enqueue(*s, p, source_port, data);
}

// The most specific match: a connected socket over a bound one, a bound address over the
// wildcard.
UdpSocket::State* UdpLayer::Impl::lookup(const IncomingPacket& p, uint16_t source, uint16_t dest) {
    UdpSocket::State* best = nullptr;
    int best_score = -1;
    for (UdpSocket::State* s = sockets; s; s = s->next) {
        if (!s->bound || s->local.port != dest) continue;
        int score = 0;
        if (!s->local.address.is_any()) {
            if (s->local.address != p.destination) continue;
            score += 1;
        }
        if (s->connected) {
            if (s->remote.address != p.source || s->remote.port != source) continue;
            score += 2;
        }
        if (score > best_score) best = s, best_score = score;
    }
    return best;
}

// RFC 1122 §4.1.3.3: ICMP errors reach the application; as on Linux (without IP_RECVERR)
// only a connected socket hears them, as its pending error.
void UdpLayer::icmp_error(std::span<const uint8_t> original, Errno error, uint16_t) {
    if (original.size() < 20) return;
    size_t header_length = size_t{original[0] & 0x0fu} * 4;
    if (original.size() < header_length + kUdpHeaderSize) return;
    Ipv4Address source{load_be32(&original[12])};
    Ipv4Address destination{load_be32(&original[16])};
    uint16_t source_port = load_be16(&original[header_length]);
    uint16_t dest_port = load_be16(&original[header_length + 2]);
    for (UdpSocket::State* s = m_impl->sockets; s; s = s->next) {
        if (!s->bound || !s->connected || s->local.port != source_port) continue;
        if (s->remote.address != destination || s->remote.port != dest_port) continue;
        if (!s->local.address.is_any() && s->local.address != source) continue;
        s->error = error;
        s->notify(events::kErr);
    }
}

}  // namespace lib::net
