// Passive opens (RFC 9293 §3.10.7.2): a listener's SYNs become half-open children, bounded
// per listener by TcpLimits::syn_backlog; beyond it (a SYN flood) the layer answers with SYN
// cookies and keeps no state until the peer's ACK proves the address is real.
#include "lib/net/bytes.h"
#include "lib/net/tcp_connection.h"

namespace lib::net {

using namespace tcp_flags;
using namespace tcp_const;

namespace {

// The MSS values a cookie can carry in its 3-bit index.
constexpr uint16_t kCookieMss[8] = {216, 536, 1024, 1220, 1360, 1440, 1452, 1460};
constexpr uint64_t kCookiePeriod = 64000 * kMs;  // the counter ticks each 64 s, as Linux's

uint16_t route_mss(IpOutput& ip, Ipv4Address to, uint16_t peer, uint16_t limit) {
    uint16_t route = ip.mtu_to(to);
    uint16_t mss = route > 40 ? static_cast<uint16_t>(route - 40) : kDefaultMss;
    if (limit && limit < mss) mss = limit;
    if (peer && peer < mss) mss = peer;
    if (!peer && kDefaultMss < mss) mss = kDefaultMss;
    return mss;
}

}  // namespace

// Cookie layout: 5 bits of the 64 s counter, 3 bits of MSS index, 24 bits of a keyed hash of
// the 4-tuple, the peer's ISN, the counter and the index.
uint32_t TcpLayer::Impl::make_cookie(Endpoint local, Endpoint remote, uint32_t peer_isn,
                                     uint16_t mss) {
    uint32_t index = 0;
    for (uint32_t i = 0; i < 8; ++i)
        if (kCookieMss[i] <= mss) index = i;
    uint64_t counter = now / kCookiePeriod;
    uint64_t hash =
        keyed(cookie_key, local, remote, uint64_t{peer_isn} << 32 | counter << 3 | index);
    return static_cast<uint32_t>((counter & 0x1f) << 27 | index << 24 | (hash & 0xffffff));
}

// The MSS a valid cookie carries, or 0.
uint16_t TcpLayer::Impl::check_cookie(Endpoint local, Endpoint remote, uint32_t peer_isn,
                                      uint32_t cookie) {
    uint64_t counter = now / kCookiePeriod;
    uint64_t age = (counter - (cookie >> 27)) & 0x1f;
    if (age > 1 || age > counter) return 0;  // two periods: up to 128 s from SYN to ACK
    uint64_t then = counter - age;
    uint32_t index = cookie >> 24 & 7;
    uint64_t hash = keyed(cookie_key, local, remote, uint64_t{peer_isn} << 32 | then << 3 | index);
    return (hash & 0xffffff) == (cookie & 0xffffff) ? kCookieMss[index] : 0;
}

void TcpLayer::Impl::listener_input(TcpConnection& l, const IncomingPacket& packet,
                                    const TcpSegment& seg) {
    Endpoint local{packet.destination, seg.destination_port};
    Endpoint remote{packet.source, seg.source_port};
    if (seg.has(kRst)) return;
    if (seg.has(kAck) && !seg.has(kSyn)) {
        uint16_t mss = check_cookie(local, remote, seg.seq - 1, seg.ack - 1);
        if (!mss) return send_reset_for(packet, seg);
        if (l.accept_count >= l.backlog) return;  // the peer retries; the cookie stays good
        TcpConnection* c = allocate();
        if (!c) return;
        c->options = l.options;
        c->local = local;
        c->remote = remote;
        c->bound = c->was_connected = true;
        hash_insert(*c);
        c->iss = seg.ack - 1;
        c->irs = seg.seq - 1;
        c->rcv_nxt = seg.seq;
        c->snd_una = seg.ack - 1;  // the SYN-ACK's ACK is processed below, as for any child
        c->snd_nxt = c->snd_max = seg.ack;
        c->send_seq = seg.ack;
        c->rcv_capacity = l.options.receive_buffer < 65535 ? l.options.receive_buffer : 65535;
        if (c->rcv_capacity < 1024) c->rcv_capacity = 1024;
        c->rcv_adv = c->rcv_nxt + c->rcv_capacity;  // what the SYN-ACK offered
        c->mss = route_mss(ip, remote.address, mss, l.options.max_segment);
        c->congestion_init();
        c->parent = &l;
        ++l.half_open;  // handle_ack moves it to the accept queue
        c->state = TcpState::SynReceived;
        c->segment_arrives(seg);
        return;
    }
    if (!seg.has(kSyn) || seg.has(kAck)) return;
    if (l.accept_count >= l.backlog) {
        ++stats.syn_dropped;  // Linux drops SYNs while the accept queue is full
        return;
    }
    TcpConnection* c = l.half_open < limits.syn_backlog ? allocate() : nullptr;
    if (!c) {
        // SYN flood (or out of memory): answer statelessly with a cookie carrying only the MSS.
        ++stats.syn_dropped;
        uint16_t mss = route_mss(ip, remote.address, seg.options.mss, l.options.max_segment);
        uint32_t cookie = make_cookie(local, remote, seg.seq, mss);
        uint8_t h[kTcpHeaderSize + 4];
        uint32_t window = l.options.receive_buffer < 65535 ? l.options.receive_buffer : 65535;
        store_be16(h, local.port);
        store_be16(h + 2, remote.port);
        store_be32(h + 4, cookie);
        store_be32(h + 8, seg.seq + 1);
        h[12] = 6 << 4;
        h[13] = kSyn | kAck;
        store_be16(h + 14, static_cast<uint16_t>(window));
        h[20] = 2, h[21] = 4;
        store_be16(h + 22, mss);
        send_raw(local.address, remote.address, h, sizeof h);
        return;
    }
    c->options = l.options;
    c->local = local;
    c->remote = remote;
    c->bound = c->was_connected = true;
    c->parent = &l;
    ++l.half_open;
    hash_insert(*c);
    c->irs = seg.seq;
    c->rcv_nxt = seg.seq + 1;
    c->iss = initial_sequence(local, remote);
    c->snd_una = c->snd_nxt = c->snd_max = c->iss;
    c->send_seq = c->iss + 1;
    c->rcv_capacity = l.options.receive_buffer < 1024 ? 1024 : l.options.receive_buffer;
    if (c->rcv_capacity > kMaxWindow) c->rcv_capacity = kMaxWindow;
    while (c->rcv_wscale < 14 && (c->rcv_capacity >> c->rcv_wscale) > 65535) ++c->rcv_wscale;
    c->wscale_ok = c->ts_ok = c->sack_ok = true;
    c->take_syn_options(seg);
    c->ts_offset = static_cast<uint32_t>(keyed(misc_key, local, remote, 1));
    c->snd_wnd = seg.window;
    c->state = TcpState::SynReceived;
    c->congestion_init();
    c->send_syn();
}

}  // namespace lib::net
