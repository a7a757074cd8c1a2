// TcpLayer: demultiplexing segments to connections and listeners (RFC 9293 §3.10.7), the
// connection tables, port allocation and initial sequence numbers (RFC 6528).
#include <new>

#include "lib/net/bytes.h"
#include "lib/net/tcp_connection.h"

namespace lib::net {

TcpLayer::Impl::Impl(IpOutput& ip_, NetEnv& env_, TcpLimits limits_)
    : ip(ip_), env(env_), limits(limits_) {
    isn_key = {env.random_u64(), env.random_u64()};
    cookie_key = {env.random_u64(), env.random_u64()};
    misc_key = {env.random_u64(), env.random_u64()};
    // Linux starts its ephemeral search at a random point of ip_local_port_range.
    next_ephemeral = static_cast<uint16_t>(
        tcp_const::kEphemeralLow +
        env.random_u64() % (tcp_const::kEphemeralHigh - tcp_const::kEphemeralLow + 1));
    now = env.now_ns();
}

TcpLayer::Impl::~Impl() {
    while (all) {
        TcpConnection* c = all;
        all = c->all_next;
        delete c;
    }
}

TcpConnection::~TcpConnection() { release_buffers(); }

size_t TcpLayer::Impl::bucket_of(Endpoint local, Endpoint remote) {
    uint32_t h = local.address.value * 0x9e3779b1u ^ remote.address.value * 0x85ebca6bu ^
                 (uint32_t{local.port} << 16 | remote.port) * 0xc2b2ae35u;
    return (h ^ h >> 15) % kBuckets;
}

TcpConnection* TcpLayer::Impl::find(Endpoint local, Endpoint remote) {
    for (TcpConnection* c = buckets[bucket_of(local, remote)]; c; c = c->hash_next)
        if (c->local == local && c->remote == remote) return c;
    return nullptr;
}

TcpConnection* TcpLayer::Impl::find_listener(Endpoint local, Endpoint remote) {
    // An exact address beats the wildcard; among SO_REUSEPORT twins the 4-tuple's hash picks
    // one, so connections spread and a given peer keeps landing on the same listener.
    TcpConnection* candidates[16];
    size_t count = 0;
    bool exact = false;
    for (TcpConnection* l = listeners; l; l = l->listen_next) {
        if (l->local.port != local.port) continue;
        bool match_exact = l->local.address == local.address;
        if (!match_exact && !l->local.address.is_any()) continue;
        if (match_exact && !exact) count = 0, exact = true;
        if (match_exact != exact) continue;
        if (count < 16) candidates[count++] = l;
    }
    if (count <= 1) return count ? candidates[0] : nullptr;
    return candidates[keyed(misc_key, local, remote, 0) % count];
}

void TcpLayer::Impl::hash_insert(TcpConnection& c) {
    size_t b = bucket_of(c.local, c.remote);
    c.hash_next = buckets[b];
    buckets[b] = &c;
    c.hashed = true;
}

void TcpLayer::Impl::hash_remove(TcpConnection& c) {
    if (!c.hashed) return;
    for (TcpConnection** p = &buckets[bucket_of(c.local, c.remote)]; *p; p = &(*p)->hash_next) {
        if (*p == &c) {
            *p = c.hash_next;
            break;
        }
    }
    c.hashed = false;
}

TcpConnection* TcpLayer::Impl::allocate() {
    // At the limit, the oldest TIME_WAIT entry makes room: it only guards against old
    // duplicates, a live connection is worth more.
    if (connection_count >= limits.max_connections && time_wait_head) {
        TcpConnection& oldest = *time_wait_head;
        oldest.to_closed();
    }
    if (connection_count >= limits.max_connections) return nullptr;
    auto* c = new (std::nothrow) TcpConnection(*this);
    if (!c) return nullptr;
    c->all_next = all;
    if (all) all->all_prev = c;
    all = c;
    ++connection_count;
    return c;
}

void TcpLayer::Impl::retire(TcpConnection& c) {
    if (c.dead) return;
    hash_remove(c);
    time_wait_unlink(c);
    if (c.state == TcpState::Listen || c.backlog) {
        for (TcpConnection** p = &listeners; *p; p = &(*p)->listen_next) {
            if (*p == &c) {
                *p = c.listen_next;
                break;
            }
        }
    }
    if (c.parent) {
        TcpConnection& l = *c.parent;
        if (c.queued) {
            for (TcpConnection** p = &l.accept_head; *p; p = &(*p)->queue_next) {
                if (*p == &c) {
                    *p = c.queue_next;
                    break;
                }
            }
            l.accept_tail = nullptr;
            for (TcpConnection* q = l.accept_head; q; q = q->queue_next) l.accept_tail = q;
            --l.accept_count;
        } else {
            --l.half_open;
        }
        c.parent = nullptr;
        c.queued = false;
    }
    c.release_buffers();
    c.dead = true;
    has_dead = true;
    --connection_count;
}

void TcpLayer::Impl::sweep() {
    if (!has_dead) return;
    has_dead = false;
    TcpConnection* c = all;
    while (c) {
        TcpConnection* next = c->all_next;
        if (c->dead) {
            if (c->all_prev)
                c->all_prev->all_next = next;
            else
                all = next;
            if (next) next->all_prev = c->all_prev;
            delete c;
        }
        c = next;
    }
}

void TcpLayer::Impl::time_wait_link(TcpConnection& c) {
    c.tw_prev = time_wait_tail;
    c.tw_next = nullptr;
    if (time_wait_tail)
        time_wait_tail->tw_next = &c;
    else
        time_wait_head = &c;
    time_wait_tail = &c;
    ++time_wait_count;
    if (time_wait_count > limits.max_time_wait && time_wait_head != &c) time_wait_head->to_closed();
}

void TcpLayer::Impl::time_wait_unlink(TcpConnection& c) {
    if (!c.tw_prev && time_wait_head != &c) return;
    if (c.tw_prev)
        c.tw_prev->tw_next = c.tw_next;
    else
        time_wait_head = c.tw_next;
    if (c.tw_next)
        c.tw_next->tw_prev = c.tw_prev;
    else
        time_wait_tail = c.tw_prev;
    c.tw_prev = c.tw_next = nullptr;
    --time_wait_count;
}

// Linux's rules: two sockets may share a local port when both set SO_REUSEPORT, or when the
// new one sets SO_REUSEADDR and the other is in TIME_WAIT or (also SO_REUSEADDR) not listening.
bool TcpLayer::Impl::port_conflicts(const TcpConnection& who, Endpoint local) const {
    for (const TcpConnection* c = all; c; c = c->all_next) {
        if (c == &who || c->dead || !c->bound || c->local.port != local.port) continue;
        if (!(c->local.address == local.address) && !c->local.address.is_any() &&
            !local.address.is_any())
            continue;
        if (who.options.reuse_port && c->options.reuse_port) continue;
        if (who.options.reuse_address &&
            (c->state == TcpState::TimeWait ||
             (c->options.reuse_address && c->state != TcpState::Listen &&
              who.state != TcpState::Listen)))
            continue;
        return true;
    }
    return false;
}

uint16_t TcpLayer::Impl::ephemeral_port(const TcpConnection& who, Ipv4Address address) {
    constexpr uint32_t range = tcp_const::kEphemeralHigh - tcp_const::kEphemeralLow + 1;
    for (uint32_t tries = 0; tries < range; ++tries) {
        uint16_t port = next_ephemeral;
        next_ephemeral = port == tcp_const::kEphemeralHigh ? tcp_const::kEphemeralLow
                                                           : static_cast<uint16_t>(port + 1);
        TcpConnection probe(*this);
        probe.options = who.options;
        probe.options.reuse_port = false;
        if (!port_conflicts(probe, {address, port})) return port;
    }
    return 0;
}

uint64_t TcpLayer::Impl::keyed(const SipKey& key, Endpoint local, Endpoint remote,
                               uint64_t extra) const {
    uint64_t words[3] = {uint64_t{local.address.value} << 32 | remote.address.value,
                         uint64_t{local.port} << 16 | remote.port, extra};
    return siphash24(key, words, 3);
}

// RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey), M a 4 µs
// clock, so a reincarnated 4-tuple starts above the old connection's numbers.
uint32_t TcpLayer::Impl::initial_sequence(Endpoint local, Endpoint remote) {
    return static_cast<uint32_t>(keyed(isn_key, local, remote, 0)) +
           static_cast<uint32_t>(now / 4000);
}

TcpLayer::TcpLayer(IpOutput& ip, NetEnv& env, TcpLimits limits)
    : m_impl(new (std::nothrow) Impl(ip, env, limits)) {}

TcpLayer::~TcpLayer() { delete m_impl; }

Result<TcpSocket*> TcpLayer::create() {
    if (!m_impl) return Errno::NoMem;
    m_impl->now = m_impl->env.now_ns();
    m_impl->sweep();
    if (m_impl->connection_count >= m_impl->limits.max_connections && !m_impl->time_wait_head)
        return Errno::NFile;
    TcpConnection* c = m_impl->allocate();
    if (!c) return Errno::NoMem;
    return &c->socket;
}

void TcpLayer::input(const IncomingPacket& packet) {
    if (!m_impl) return;
    Impl& impl = *m_impl;
    impl.now = impl.env.now_ns();
    ++impl.stats.segments_in;
    TcpSegment seg;
    if (packet.payload.size() > 0xffff || !parse_segment(packet.payload, seg)) {
        ++impl.stats.bad_segments;
        return;
    }
    if (!packet.checksum_verified) {
        uint32_t sum = pseudo_header_sum(packet.source.value, packet.destination.value,
                                         kProtocolTcp, uint16_t(packet.payload.size()));
        if (checksum_fold(checksum_add(sum, packet.payload)) != 0xffff) {
            ++impl.stats.bad_segments;
            return;
        }
    }
    // RFC 1122 §4.2.3.10: no connections with broadcast or multicast ends.
    if (packet.destination.is_broadcast() || packet.destination.is_multicast() ||
        packet.source.is_broadcast() || packet.source.is_multicast() || packet.source.is_any() ||
        seg.source_port == 0 || seg.destination_port == 0) {
        ++impl.stats.bad_segments;
        return;
    }
    Endpoint local{packet.destination, seg.destination_port};
    Endpoint remote{packet.source, seg.source_port};
    TcpConnection* c = impl.find(local, remote);
    // RFC 6191-style reuse: a new SYN above a TIME_WAIT connection's sequence space ends it.
    if (c && c->state == TcpState::TimeWait && seg.flags == tcp_flags::kSyn &&
        seq_gt(seg.seq, c->rcv_nxt) && impl.find_listener(local, remote)) {
        c->to_closed();
        c = nullptr;
    }
    if (c) {
        c->segment_arrives(seg);
    } else if (TcpConnection* l = impl.find_listener(local, remote)) {
        impl.listener_input(*l, packet, seg);
    } else {
        impl.send_reset_for(packet, seg);
    }
    impl.sweep();
}

void TcpLayer::icmp_error(std::span<const uint8_t> original, Errno error, uint16_t next_mtu) {
    if (!m_impl || original.size() < 20) return;
    size_t ihl = size_t(original[0] & 0xf) * 4;
    if (ihl < 20 || original.size() < ihl + 8 || original[9] != kProtocolTcp) return;
    Impl& impl = *m_impl;
    impl.now = impl.env.now_ns();
    const uint8_t* t = &original[ihl];
    Endpoint local{{load_be32(&original[12])}, load_be16(t)};
    Endpoint remote{{load_be32(&original[16])}, load_be16(t + 2)};
    uint32_t seq = load_be32(t + 4);
    TcpConnection* c = impl.find(local, remote);
    // RFC 5927 §4.1: only errors quoting a sequence number we have in flight count.
    if (!c || !seq_in(seq, c->snd_una, c->snd_max + 1)) return;
    if (error == Errno::MsgSize) {
        // RFC 1191: the next hop's MTU bounds our segments (never below 296-byte packets).
        uint16_t mtu = next_mtu ? next_mtu : static_cast<uint16_t>(c->mss + 40 - 1);
        if (mtu < 296) mtu = 296;
        uint16_t new_mss = static_cast<uint16_t>(mtu - 40);
        if (new_mss < c->mss) {
            c->mss = new_mss;
            c->snd_nxt = c->snd_una;  // resend at the new size now
            c->output();
        }
    } else if (c->state == TcpState::SynSent || c->state == TcpState::SynReceived) {
        if (c->parent)
            c->to_closed();
        else
            c->abort(error);
    } else {
        c->soft_error = error;
    }
    impl.sweep();
}

uint64_t TcpLayer::run_timers(uint64_t now) {
    if (!m_impl) return kNoDeadline;
    m_impl->now = now;
    for (TcpConnection* c = m_impl->all; c; c = c->all_next)
        if (!c->dead) c->run_timers(now);
    m_impl->sweep();
    uint64_t best = kNoDeadline;  // exact again
    for (const TcpConnection* c = m_impl->all; c; c = c->all_next) {
        if (c->dead) continue;
        uint64_t d = c->next_deadline();
        if (d < best) best = d;
    }
    m_impl->earliest = best;
    return best;
}

uint64_t TcpLayer::next_deadline() const {
    // A lower bound (Impl::earliest): at worst a wakeup finds nothing due and makes it exact.
    return m_impl ? m_impl->earliest : kNoDeadline;
}

void TcpLayer::for_each_connection(void (*visit)(const ConnectionInfo&, void*),
                                   void* context) const {
    if (!m_impl) return;
    for (const TcpConnection* c = m_impl->all; c; c = c->all_next) {
        if (c->dead) continue;
        visit({c->local, c->remote, c->state, c->send_ring.size(), c->rcv_ring.size()}, context);
    }
}

const TcpLayer::Stats& TcpLayer::stats() const {
    static const Stats kEmpty{};
    return m_impl ? m_impl->stats : kEmpty;
}

}  // namespace lib::net
