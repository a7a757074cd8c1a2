// Building and sending segments: data from the send ring (never copied: the two ring halves
// go out as the packet's payload pieces), SYNs with their options, ACKs, RSTs, probes, and
// the send policy (Nagle RFC 9293 §3.7.4, sender SWS avoidance §3.8.6.2.1, TCP_CORK/MSG_MORE).
#include "lib/net/bytes.h"
#include "lib/net/tcp_connection.h"

namespace lib::net {

using namespace tcp_flags;

namespace {

void write_header(uint8_t* h, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                  uint8_t flags, uint16_t window, size_t options_length) {
    store_be16(h, sport);
    store_be16(h + 2, dport);
    store_be32(h + 4, seq);
    store_be32(h + 8, ack);
    h[12] = static_cast<uint8_t>((kTcpHeaderSize + options_length) / 4 << 4);
    h[13] = flags;
    store_be16(h + 14, window);
    store_be16(h + 16, 0);
    store_be16(h + 18, 0);
}

}  // namespace

bool TcpLayer::Impl::send_raw(Ipv4Address source, Ipv4Address destination, uint8_t* header,
                              size_t header_length, std::span<const uint8_t> payload0,
                              std::span<const uint8_t> payload1) {
    size_t total = header_length + payload0.size() + payload1.size();
    // The pseudo-header sum goes in the checksum field; the layer below finishes the sum.
    store_be16(header + 16, checksum_fold(pseudo_header_sum(source.value, destination.value,
                                                            kProtocolTcp, uint16_t(total))));
    OutgoingPacket packet;
    packet.source = source;
    packet.destination = destination;
    packet.protocol = kProtocolTcp;
    packet.header = {header, header_length};
    packet.payload[0] = payload0;
    packet.payload[1] = payload1;
    packet.checksum_offset = 16;
    ++stats.segments_out;
    return !ip.send(packet).is_error();
}

void TcpLayer::Impl::send_reset_for(const IncomingPacket& packet, const TcpSegment& seg) {
    // RFC 9293 §3.10.7.1: never answer a RST; otherwise take the sequence number from the
    // ACK field, or acknowledge the segment.
    if (seg.has(kRst)) return;
    uint8_t h[kTcpHeaderSize];
    if (seg.has(kAck))
        write_header(h, seg.destination_port, seg.source_port, seg.ack, 0, kRst, 0, 0);
    else
        write_header(h, seg.destination_port, seg.source_port, 0, seg.seq + seg.length(),
                     kRst | kAck, 0, 0);
    ++stats.resets_sent;
    send_raw(packet.destination, packet.source, h, sizeof h);
}

uint32_t TcpConnection::effective_mss() const { return mss - (ts_ok ? 12u : 0u); }

uint32_t TcpConnection::unsent() const {
    uint32_t offset = snd_nxt - send_seq;
    if (seq_lt(snd_nxt, send_seq)) offset = 0;
    return send_ring.size() > offset ? send_ring.size() - offset : 0;
}

// The window to advertise (unscaled bytes). Receiver SWS avoidance (RFC 9293 §3.8.6.2.2):
// the right edge moves only by at least min(buffer / 2, MSS); it never moves left.
uint32_t TcpConnection::receive_window() const {
    uint32_t space = rcv_capacity > rcv_ring.size() ? rcv_capacity - rcv_ring.size() : 0;
    uint32_t limit = 65535u << rcv_wscale;
    if (space > limit) space = limit;
    uint32_t current = seq_gt(rcv_adv, rcv_nxt) ? rcv_adv - rcv_nxt : 0;
    uint32_t step = rcv_capacity / 2 < mss ? rcv_capacity / 2 : mss;
    if (space <= current) return current;
    if (space - current < step && space < rcv_capacity) return current;
    // Round down to what the scaled field can say, but never below what was promised.
    uint32_t rounded = space >> rcv_wscale << rcv_wscale;
    return rounded > current ? rounded : current;
}

void TcpConnection::arm_rexmit() {
    if (rexmit_deadline == kNoDeadline || persist) {
        persist = false;
        rexmit_deadline = layer.now + rto;
        note_deadline(rexmit_deadline);
    }
}

// Sends [seq, seq + length) from the send ring, with FIN when `fin`. Returns false when IPv4
// refused it (the retransmission timer covers the loss).
bool TcpConnection::transmit(uint32_t seq, uint32_t length, bool retransmission) {
    bool fin = fin_queued && seq + length == fin_seq() && state != TcpState::SynSent &&
               state != TcpState::SynReceived;
    uint8_t h[kTcpHeaderSize + kTcpMaxOptions];
    OptionsToSend o;
    if (ts_ok) {
        o.timestamp = true;
        o.ts_val = layer.ts_clock() + ts_offset;
        o.ts_ecr = ts_recent;
    }
    // RFC 2018 §4: the block holding the latest out-of-order segment first, then the others.
    SeqRange blocks[4];
    size_t nblocks = 0;
    if (sack_ok && !ooo.empty()) {
        size_t max_blocks = ts_ok ? 3 : 4;
        uint32_t used = static_cast<uint32_t>(kTcpMaxOptions);
        size_t room = (mss > length + (ts_ok ? 12u : 0u) + 4u)
                          ? (mss - length - (ts_ok ? 12u : 0u) - 4u) / 8
                          : 0;
        (void)used;
        if (room < max_blocks) max_blocks = room;
        size_t latest = ooo.find(ooo_latest);
        if (latest < ooo.count() && nblocks < max_blocks) blocks[nblocks++] = ooo[latest];
        for (size_t i = 0; i < ooo.count() && nblocks < max_blocks; ++i)
            if (i != latest) blocks[nblocks++] = ooo[i];
        o.sack = {blocks, nblocks};
    }
    size_t options_length = write_options(h + kTcpHeaderSize, o);
    uint32_t window = receive_window();
    uint8_t flags = kAck;
    if (fin) flags |= kFin;
    if (length && seq + length == fin_seq()) flags |= kPsh;
    write_header(h, local.port, remote.port, seq, rcv_nxt, flags,
                 static_cast<uint16_t>(window >> rcv_wscale), options_length);
    std::span<const uint8_t> pieces[2];
    send_ring.pieces(seq - send_seq, length, pieces);
    bool ok = layer.send_raw(local.address, remote.address, h, kTcpHeaderSize + options_length,
                             pieces[0], pieces[1]);
    if (seq_gt(rcv_nxt + window, rcv_adv)) rcv_adv = rcv_nxt + window;
    last_ack_sent = rcv_nxt;
    ack_now = false;
    delack_deadline = kNoDeadline;
    unacked_segments = 0;
    uint32_t end = seq + length + (fin ? 1 : 0);
    if (end == seq) return ok;
    if (retransmission) {
        ++layer.stats.retransmits;
        rtt_timing = false;  // Karn: no sample from a retransmitted range
    } else if (!rtt_timing && !ts_ok) {
        rtt_timing = true;
        rtt_seq = end;
        rtt_start = layer.now;
    }
    if (seq_gt(end, snd_max)) snd_max = end;
    arm_rexmit();
    return ok;
}

void TcpConnection::output() {
    switch (state) {
        case TcpState::Established:
        case TcpState::CloseWait:
        case TcpState::FinWait1:
        case TcpState::Closing:
        case TcpState::LastAck:
            break;
        default:
            return;
    }
    uint32_t smss = effective_mss();
    for (int guard = 0; guard < 4096; ++guard) {
        uint32_t avail = unsent();
        bool fin_pending = fin_queued && seq_leq(snd_nxt, fin_seq());
        if (avail == 0 && !fin_pending) break;
        uint32_t in_flight = snd_nxt - snd_una;
        uint32_t wnd = snd_wnd < cwnd ? snd_wnd : cwnd;
        uint32_t usable = wnd > in_flight ? wnd - in_flight : 0;
        uint32_t length = avail < smss ? avail : smss;
        if (length > usable) length = usable;
        if (length == 0 && avail > 0) {
            // RFC 9293 §3.8.6.1: a closed window with nothing in flight needs the persist
            // timer, or neither side would ever speak again.
            if (snd_wnd == 0 && snd_una == snd_max && !persist) {
                persist = true;
                rexmit_deadline = layer.now + rto;
                note_deadline(rexmit_deadline);
            }
            break;
        }
        bool last = length == avail;
        bool corked = options.cork || more;
        bool send_now = length == smss || (last && fin_pending) ||
                        (last && !corked && (options.nodelay || in_flight == 0)) ||
                        (max_snd_wnd && length >= max_snd_wnd / 2 && !corked);
        if (!send_now) break;
        transmit(snd_nxt, length, seq_lt(snd_nxt, snd_max));
        snd_nxt += length;
        if (last && fin_pending) snd_nxt += 1;
    }
    // Data held back with nothing in flight (a window below one segment, §3.8.6.2.1's
    // override timeout): the persist timer forces it out, as Linux's probe timer does.
    if (unsent() > 0 && snd_una == snd_max && !persist && rexmit_deadline == kNoDeadline &&
        !options.cork && !more) {
        persist = true;
        rexmit_deadline = layer.now + rto;
        note_deadline(rexmit_deadline);
    }
}

// The persist timer fired with a window open but too small for the send policy: send what
// fits.
void TcpConnection::force_output() {
    uint32_t smss = effective_mss();
    uint32_t length = unsent();
    if (length > smss) length = smss;
    if (length > snd_wnd) length = snd_wnd;
    if (length == 0) return;
    transmit(snd_nxt, length, false);
    snd_nxt += length;
}

void TcpConnection::send_syn() {
    uint8_t h[kTcpHeaderSize + kTcpMaxOptions];
    OptionsToSend o;
    uint16_t route = layer.ip.mtu_to(remote.address);
    uint16_t our_mss = route > 40 ? static_cast<uint16_t>(route - 40) : tcp_const::kDefaultMss;
    if (options.max_segment && options.max_segment < our_mss) our_mss = options.max_segment;
    o.mss = our_mss;
    o.wscale = wscale_ok ? static_cast<int8_t>(rcv_wscale) : -1;
    o.sack_permitted = sack_ok;
    o.timestamp = ts_ok;
    o.ts_val = layer.ts_clock() + ts_offset;
    o.ts_ecr = state == TcpState::SynSent ? 0 : ts_recent;
    size_t options_length = write_options(h + kTcpHeaderSize, o);
    bool syn_ack = state == TcpState::SynReceived;
    uint32_t window = rcv_capacity < 65535 ? rcv_capacity : 65535;  // RFC 7323 §2.2: unscaled
    write_header(h, local.port, remote.port, iss, syn_ack ? rcv_nxt : 0,
                 syn_ack ? kSyn | kAck : kSyn, static_cast<uint16_t>(window), options_length);
    layer.send_raw(local.address, remote.address, h, kTcpHeaderSize + options_length);
    if (syn_ack) {
        rcv_adv = rcv_nxt + window;
        last_ack_sent = rcv_nxt;
    }
    if (retries > 0) ++layer.stats.retransmits;
    if (retries == 0) rtt_start = layer.now;
    snd_nxt = iss + 1;
    if (seq_gt(snd_nxt, snd_max)) snd_max = snd_nxt;
    arm_rexmit();
}

void TcpConnection::send_ack() {
    if (state == TcpState::SynSent || state == TcpState::Closed || state == TcpState::Listen)
        return;
    transmit(snd_nxt, 0, false);
}

void TcpConnection::send_rst(uint32_t seq) {
    uint8_t h[kTcpHeaderSize];
    bool with_ack = synchronized();
    write_header(h, local.port, remote.port, seq, with_ack ? rcv_nxt : 0,
                 with_ack ? kRst | kAck : kRst, 0, 0);
    ++layer.stats.resets_sent;
    layer.send_raw(local.address, remote.address, h, sizeof h);
}

// A keepalive or zero-window probe: one sequence number below snd_una, which the peer must
// answer with an ACK carrying its current window (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6).
void TcpConnection::send_probe() {
    uint32_t saved = snd_nxt;
    transmit(snd_una - 1, 0, false);
    snd_nxt = saved;
}

}  // namespace lib::net
