// Connection timers: retransmission with backoff and retry limits (RFC 6298 §5, RFC 9293
// §3.8.3 R2), the persist timer (§3.8.6.1), delayed ACKs, keepalive (RFC 1122 §4.2.3.6),
// FIN_WAIT_2 for orphans and TIME_WAIT (§3.6.1, 2*MSL).
#include "lib/net/tcp_connection.h"

namespace lib::net {

using namespace tcp_const;

uint64_t TcpConnection::next_deadline() const {
    uint64_t d = rexmit_deadline;
    if (delack_deadline < d) d = delack_deadline;
    if (keepalive_deadline < d) d = keepalive_deadline;
    if (state_deadline < d) d = state_deadline;
    return d;
}

void TcpConnection::run_timers(uint64_t now) {
    if (delack_deadline <= now) {
        delack_deadline = kNoDeadline;
        send_ack();
    }
    if (rexmit_deadline <= now) rexmit_timeout();
    if (dead) return;
    if (keepalive_deadline <= now) keepalive_timeout();
    if (dead) return;
    if (state_deadline <= now) {
        state_deadline = kNoDeadline;
        if (state == TcpState::TimeWait || state == TcpState::FinWait2) to_closed();
    }
}

void TcpConnection::rexmit_timeout() {
    rexmit_deadline = kNoDeadline;
    uint64_t now = layer.now;
    if (persist) {
        if (snd_wnd != 0) {
            persist = false;
            force_output();
            output();
            return;
        }
        // Probes never give up while the peer answers (each answer resets `retries`).
        if (++retries > kDataRetries)
            return abort(soft_error != Errno{} ? soft_error : Errno::TimedOut);
        send_probe();
        uint64_t backoff = rto << (retries < 10 ? retries : 10);
        rexmit_deadline = now + (backoff > kMaxRto ? kMaxRto : backoff);
        note_deadline(rexmit_deadline);
        return;
    }
    if (snd_una == snd_max) return;
    if (first_timeout == 0) first_timeout = now;
    ++retries;
    uint32_t limit = state == TcpState::SynSent       ? kSynRetries
                     : state == TcpState::SynReceived ? kSynAckRetries
                                                      : kDataRetries;
    bool expired = retries > limit;
    if (options.user_timeout_ms && state != TcpState::SynReceived)
        expired = now - first_timeout >= uint64_t{options.user_timeout_ms} * kMs;
    if (expired) {
        if (parent) return to_closed();  // a half-open child just goes away
        return abort(soft_error != Errno{} ? soft_error : Errno::TimedOut);
    }
    if (state == TcpState::SynSent || state == TcpState::SynReceived) {
        rto = rto * 2 > kMaxRto ? kMaxRto : rto * 2;
        snd_nxt = iss;
        send_syn();
        return;
    }
    on_timeout();
    output();
    if (rexmit_deadline == kNoDeadline && snd_una != snd_max) rexmit_deadline = now + rto;
    note_deadline(rexmit_deadline);
}

void TcpConnection::arm_keepalive() {
    bool on = options.keepalive && (state == TcpState::Established || state == TcpState::CloseWait);
    keepalive_deadline =
        on ? last_received + uint64_t{options.keepalive_idle_s} * 1000 * kMs : kNoDeadline;
    note_deadline(keepalive_deadline);
}

void TcpConnection::keepalive_timeout() {
    keepalive_deadline = kNoDeadline;
    if (!options.keepalive || (state != TcpState::Established && state != TcpState::CloseWait))
        return;
    uint64_t now = layer.now;
    uint64_t idle = uint64_t{options.keepalive_idle_s} * 1000 * kMs;
    uint64_t interval = uint64_t{options.keepalive_interval_s} * 1000 * kMs;
    if (keepalive_probes == 0 && now < last_received + idle) {
        keepalive_deadline = last_received + idle;
        note_deadline(keepalive_deadline);  // traffic since: wait a full idle again
        return;
    }
    if (snd_una != snd_max || unsent() > 0) {
        keepalive_deadline = now + idle;
        note_deadline(keepalive_deadline);  // data in flight: the retransmission timer watches
        return;
    }
    if (keepalive_probes >= options.keepalive_count) return abort(Errno::TimedOut);
    send_probe();
    ++keepalive_probes;
    keepalive_deadline = now + interval;
    note_deadline(keepalive_deadline);
}

void TcpConnection::enter_time_wait() {
    state = TcpState::TimeWait;
    rexmit_deadline = delack_deadline = keepalive_deadline = kNoDeadline;
    persist = false;
    state_deadline = layer.now + kTimeWait;
    note_deadline(state_deadline);
    if (send_ring.allocated()) {
        layer.buffered_bytes -= send_ring.capacity();
        send_ring.release();
    }
    layer.time_wait_link(*this);
    notify(events::kReadable | events::kRdHup | events::kHup);
}

void TcpConnection::abort(Errno why) {
    error = why;
    reset = true;
    to_closed();
    notify(events::kReadable | events::kWritable | events::kErr | events::kHup);
}

void TcpConnection::to_closed() {
    state = TcpState::Closed;
    rexmit_deadline = delack_deadline = keepalive_deadline = state_deadline = kNoDeadline;
    persist = false;
    if (owner_closed || parent) {
        layer.retire(*this);
        return;
    }
    // The owner still holds the socket: free the 4-tuple, keep unread data readable.
    layer.hash_remove(*this);
    layer.time_wait_unlink(*this);
    bound = false;  // the port goes back, as Linux's tcp_done does
    if (send_ring.allocated()) {
        layer.buffered_bytes -= send_ring.capacity();
        send_ring.release();
    }
}

}  // namespace lib::net
