// Segment arrival for a connection (RFC 9293 §3.10.7.3 SYN-SENT, §3.10.7.4 the other states),
// with PAWS (RFC 7323 §5) and the RST/SYN/ACK hardening of RFC 5961.
#include "lib/net/tcp_connection.h"

namespace lib::net {

using namespace tcp_flags;

void TcpConnection::take_syn_options(const TcpSegment& seg) {
    const TcpHeaderOptions& o = seg.options;
    uint16_t peer_mss = o.mss ? o.mss : tcp_const::kDefaultMss;
    uint16_t route = layer.ip.mtu_to(remote.address);
    uint16_t ours = route > 40 ? static_cast<uint16_t>(route - 40) : tcp_const::kDefaultMss;
    if (options.max_segment && options.max_segment < ours) ours = options.max_segment;
    mss = peer_mss < ours ? peer_mss : ours;
    if (mss < 64) mss = 64;  // a hostile tiny MSS would make every byte a segment
    // RFC 7323 §2.2: scaling only when both sides sent the option.
    wscale_ok = o.wscale >= 0 && wscale_ok;
    snd_wscale = wscale_ok ? static_cast<uint8_t>(o.wscale) : 0;
    if (!wscale_ok) rcv_wscale = 0;
    ts_ok = o.has_timestamp && ts_ok;
    if (ts_ok) {
        ts_recent = o.ts_val;
        ts_recent_time = layer.now;
    }
    sack_ok = o.sack_permitted && sack_ok;
}

void TcpConnection::syn_sent_input(const TcpSegment& seg) {
    if (seg.has(kAck) && (seq_leq(seg.ack, iss) || seq_gt(seg.ack, snd_max))) {
        if (!seg.has(kRst)) send_rst(seg.ack);
        return;
    }
    if (seg.has(kRst)) {
        // RFC 5961 §3.2 would want the exact ACK; RFC 9293 accepts any acceptable one here.
        if (seg.has(kAck)) abort(Errno::ConnRefused);
        return;
    }
    if (!seg.has(kSyn)) return;
    irs = seg.seq;
    rcv_nxt = seg.seq + 1;
    rcv_adv = rcv_nxt;  // our next segment advertises the window
    take_syn_options(seg);
    congestion_init();
    if (seg.has(kAck)) {
        snd_una = seg.ack;
        snd_wnd = seg.window;  // RFC 7323 §2.2: a SYN's window is never scaled
        max_snd_wnd = snd_wnd;
        snd_wl1 = seg.seq;
        snd_wl2 = seg.ack;
        if (!rtt_valid && retries == 0) rtt_sample(layer.now - rtt_start);
        rtt_timing = false;
        established();
        send_ack();
        notify(events::kWritable);
        output();
        return;
    }
    // §3.10.7.3: simultaneous open; our SYN is re-sent with the ACK of theirs.
    state = TcpState::SynReceived;
    snd_wnd = seg.window;  // never scaled in a SYN (RFC 7323 §2.2)
    snd_nxt = iss;
    send_syn();
}

void TcpConnection::established() {
    state = TcpState::Established;
    retries = 0;
    rexmit_deadline = kNoDeadline;
    persist = false;
    last_received = layer.now;
    arm_keepalive();
}

bool TcpConnection::acceptable(const TcpSegment& seg) const {
    uint32_t wnd = rcv_adv - rcv_nxt;
    uint32_t len = seg.length();
    if (seg.seq == rcv_nxt) return true;  // also a zero-window probe or an ACK at the edge
    if (wnd == 0) return false;
    uint32_t right = rcv_nxt + wnd;
    if (seq_in(seg.seq, rcv_nxt, right)) return true;
    return len > 0 && seq_in(seg.seq + len - 1, rcv_nxt, right);
}

// Returns whether processing stops here.
bool TcpConnection::handle_rst(const TcpSegment& seg) {
    // RFC 5961 §3.2: only an exact RST resets; one merely in the window gets a challenge ACK.
    if (seg.seq != rcv_nxt) {
        send_ack();
        return true;
    }
    switch (state) {
        case TcpState::SynReceived:
            if (parent) {
                to_closed();  // §3.10.7.4: back to LISTEN, i.e. the child goes away
                return true;
            }
            abort(Errno::ConnRefused);
            return true;
        case TcpState::Closing:
        case TcpState::LastAck:
        case TcpState::TimeWait:
            to_closed();
            return true;
        default:
            abort(Errno::ConnReset);
            return true;
    }
}

void TcpConnection::segment_arrives(const TcpSegment& seg) {
    if (state == TcpState::Closed || state == TcpState::Listen) return;
    if (state == TcpState::SynSent) return syn_sent_input(seg);
    last_received = layer.now;
    keepalive_probes = 0;
    // A retransmitted SYN while we wait for the handshake's ACK: say SYN-ACK again.
    if (state == TcpState::SynReceived && seg.has(kSyn) && !seg.has(kAck) && seg.seq == irs) {
        snd_nxt = iss;
        send_syn();
        return;
    }
    // RFC 7323 §5.3 PAWS: an older timestamp marks an old duplicate (unless ts_recent itself
    // is more than 24 days stale).
    if (ts_ok && seg.options.has_timestamp && !seg.has(kRst) &&
        seq_lt(seg.options.ts_val, ts_recent) &&
        layer.now - ts_recent_time < 24ull * 86400 * 1000 * tcp_const::kMs) {
        send_ack();
        return;
    }
    if (!acceptable(seg)) {
        if (!seg.has(kRst)) send_ack();
        return;
    }
    if (seg.has(kRst)) {
        handle_rst(seg);
        return;
    }
    // RFC 5961 §4.2: any SYN in a synchronized state draws a challenge ACK.
    if (seg.has(kSyn)) {
        send_ack();
        return;
    }
    if (!seg.has(kAck)) return;
    // RFC 7323 §4.3: remember the timestamp of the segment that covers our last ACK.
    if (ts_ok && seg.options.has_timestamp && seq_leq(seg.seq, last_ack_sent)) {
        ts_recent = seg.options.ts_val;
        ts_recent_time = layer.now;
    }
    if (!handle_ack(seg)) return;
    if (dead || state == TcpState::Closed) return;

    // Text (§3.10.7.4 seventh): trim to rcv_nxt and to the window.
    uint32_t seq = seg.seq;
    std::span<const uint8_t> data = seg.payload;
    bool fin = seg.has(kFin);
    if (seq_lt(seq, rcv_nxt)) {
        uint32_t skip = rcv_nxt - seq;
        if (skip >= data.size() + (fin ? 1 : 0)) {
            // Entirely old: a duplicate. Acknowledge it (the peer may have lost our ACK).
            if (seg.length() > 0) ack_now = true;
            data = {};
            fin = false;
        } else {
            data = data.subspan(skip < data.size() ? skip : data.size());
            seq = rcv_nxt;
        }
    }
    uint32_t window_left = rcv_adv - seq;
    if (seq_gt(seq, rcv_adv)) window_left = 0;
    if (data.size() > window_left) {
        data = data.first(window_left);
        fin = false;
        ack_now = true;
    }
    bool can_receive = state == TcpState::Established || state == TcpState::FinWait1 ||
                       state == TcpState::FinWait2;
    if (!data.empty() && can_receive) {
        // Data for a socket nobody will read (closed by its owner) ends the connection
        // (RFC 9293 §3.10.7.1 as Linux applies it to orphans).
        if (owner_closed) {
            send_rst(snd_nxt);
            to_closed();
            return;
        }
        receive_data(seq, data);
    }
    if (fin && can_receive) {
        uint32_t fin_at = seq + static_cast<uint32_t>(data.size());
        if (fin_at == rcv_nxt) {
            receive_fin();
        } else if (seq_gt(fin_at, rcv_nxt)) {
            ooo_fin = true;  // arrives in order once the holes fill
            ooo_fin_seq = fin_at;
        }
    }
    output();
    if (ack_now) send_ack();
}

// §3.10.7.4 fifth: the ACK field. Returns false when the segment is to be dropped.
bool TcpConnection::handle_ack(const TcpSegment& seg) {
    if (state == TcpState::SynReceived) {
        if (!seq_in(seg.ack, snd_una + 1, snd_max + 1)) {
            send_rst(seg.ack);
            return false;
        }
        if (parent && parent->accept_count >= parent->backlog) return false;  // Linux: drop
        snd_wnd = uint32_t{seg.window} << snd_wscale;
        max_snd_wnd = snd_wnd;
        snd_wl1 = seg.seq;
        snd_wl2 = seg.ack;
        if (!rtt_valid && retries == 0) rtt_sample(layer.now - rtt_start);
        rtt_timing = false;
        snd_una = seg.ack;
        established();
        if (parent) {
            --parent->half_open;
            queued = true;
            queue_next = nullptr;
            if (parent->accept_tail)
                parent->accept_tail->queue_next = this;
            else
                parent->accept_head = this;
            parent->accept_tail = this;
            ++parent->accept_count;
            ++layer.stats.passive_opens;
            notify_parent();
        } else {
            notify(events::kWritable);
        }
        if (fin_queued) state = TcpState::FinWait1;  // closed while half-open
    }
    // RFC 5961 §5.2: an ACK beyond what we sent is answered and dropped; one older than the
    // largest window we have seen is dropped silently.
    if (seq_gt(seg.ack, snd_max)) {
        send_ack();
        return false;
    }
    if (seq_lt(seg.ack, snd_una - max_snd_wnd - 1)) return false;
    take_ack(seg);
    if (dead) return false;

    bool fin_acked = fin_queued && seq_gt(snd_una, fin_seq());
    switch (state) {
        case TcpState::FinWait1:
            if (fin_acked) {
                state = TcpState::FinWait2;
                if (owner_closed) state_deadline = layer.now + tcp_const::kFinWait2;
                note_deadline(state_deadline);
            }
            break;
        case TcpState::Closing:
            if (fin_acked) enter_time_wait();
            break;
        case TcpState::LastAck:
            if (fin_acked) {
                to_closed();
                return false;
            }
            break;
        case TcpState::TimeWait:
            // A retransmitted FIN: acknowledge again and restart the 2*MSL wait.
            if (seg.has(kFin)) {
                ack_now = true;
                state_deadline = layer.now + tcp_const::kTimeWait;
                note_deadline(state_deadline);
            }
            break;
        default:
            break;
    }
    return true;
}

void TcpConnection::take_ack(const TcpSegment& seg) {
    uint32_t window = uint32_t{seg.window} << snd_wscale;
    if (sack_ok && seg.options.sack_count) update_scoreboard(seg);
    if (seq_gt(seg.ack, snd_una)) {
        uint32_t acked = seg.ack - snd_una;
        // Drop acknowledged data (the FIN's sequence number is not in the ring).
        if (seq_gt(seg.ack, send_seq)) {
            uint32_t data = seg.ack - send_seq;
            if (data > send_ring.size()) data = send_ring.size();
            send_ring.consume(data);
            send_seq += data;
        }
        snd_una = seg.ack;
        if (seq_lt(snd_nxt, snd_una)) snd_nxt = snd_una;
        scoreboard.remove_below(snd_una);
        on_new_ack(acked, seg);
        retries = 0;
        first_timeout = 0;
        if (!owner_closed && send_ring.space() >= send_ring.size() / 2) notify(events::kWritable);
    } else if (seg.ack == snd_una && seg.payload.empty() && !seg.has(kFin) && window == snd_wnd &&
               snd_max != snd_una) {
        on_dupack(seg);  // RFC 5681 §2's duplicate ACK
    }
    // §3.10.7.4: update the send window from segments that are not older than the last one
    // that did.
    if (seq_lt(snd_wl1, seg.seq) || (snd_wl1 == seg.seq && seq_leq(snd_wl2, seg.ack))) {
        bool opened = snd_wnd == 0 && window > 0;
        snd_wnd = window;
        if (window > max_snd_wnd) max_snd_wnd = window;
        snd_wl1 = seg.seq;
        snd_wl2 = seg.ack;
        if (opened && persist) {
            persist = false;
            rexmit_deadline = kNoDeadline;
            retries = 0;
        }
    }
    if (snd_una == snd_max && !persist) rexmit_deadline = kNoDeadline;
}

void TcpConnection::receive_data(uint32_t seq, std::span<const uint8_t> data) {
    if (!rcv_ring.allocated()) {
        if (layer.buffered_bytes + rcv_capacity > layer.limits.max_buffered_bytes ||
            !rcv_ring.allocate(rcv_capacity)) {
            ack_now = true;  // no memory: drop, the peer retransmits
            return;
        }
        layer.buffered_bytes += rcv_capacity;
    }
    uint32_t offset = seq - rcv_nxt;
    uint32_t space = rcv_ring.space();
    if (offset >= space) {
        ack_now = true;
        return;
    }
    if (data.size() > space - offset) data = data.first(space - offset);
    uint32_t len = static_cast<uint32_t>(data.size());
    if (offset == 0) {
        rcv_ring.write_at(rcv_ring.size(), data);
        rcv_ring.commit(len);
        rcv_nxt += len;
        bool filled = false;
        while (!ooo.empty() && seq_leq(ooo[0].start, rcv_nxt)) {
            if (seq_gt(ooo[0].end, rcv_nxt)) {
                rcv_ring.commit(ooo[0].end - rcv_nxt);
                rcv_nxt = ooo[0].end;
            }
            ooo.pop_front();
            filled = true;
        }
        // RFC 5681 §4.2: ACK at once when a hole fills; otherwise every second full segment
        // or after the delayed-ACK timeout (RFC 9293 §3.8.6.3: at most 500 ms; Linux's 40).
        if (filled || !ooo.empty()) {
            ack_now = true;
        } else if (len >= effective_mss() && ++unacked_segments >= 2) {
            ack_now = true;
        } else if (delack_deadline == kNoDeadline) {
            delack_deadline = layer.now + tcp_const::kDelayedAck;
            note_deadline(delack_deadline);
        }
        if (ooo_fin && ooo_fin_seq == rcv_nxt) receive_fin();
        notify(events::kReadable);
    } else {
        // Out of order: store it in place and tell the peer at once (a duplicate ACK carrying
        // SACK blocks, RFC 5681 §4.2 / RFC 2018 §4).
        if (ooo.add(seq, seq + len)) {
            rcv_ring.write_at(rcv_ring.size() + offset, data);
            ooo_latest = seq;
        }
        ack_now = true;
    }
}

void TcpConnection::receive_fin() {
    if (fin_received) return;
    fin_received = true;
    ooo_fin = false;
    rcv_nxt += 1;
    ack_now = true;
    switch (state) {
        case TcpState::Established:
            state = TcpState::CloseWait;
            break;
        case TcpState::FinWait1:
            // Our FIN unacknowledged yet: both closed at once (§3.6 simultaneous close).
            if (fin_queued && seq_gt(snd_una, fin_seq()))
                enter_time_wait();
            else
                state = TcpState::Closing;
            break;
        case TcpState::FinWait2:
            enter_time_wait();
            break;
        default:
            break;
    }
    notify(events::kReadable | events::kRdHup);
}

}  // namespace lib::net
