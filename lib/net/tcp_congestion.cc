// Round-trip estimation (RFC 6298, with RFC 7323 §4 timestamp samples or Karn's rule) and
// congestion control: IW10 (RFC 6928), slow start and congestion avoidance (RFC 5681), fast
// retransmit and NewReno fast recovery (RFC 6582), with a SACK scoreboard (RFC 2018, the
// hole selection of RFC 6675 §4) choosing what to resend during recovery.
#include "lib/net/tcp_connection.h"

namespace lib::net {

using namespace tcp_const;

void TcpConnection::congestion_init() {
    uint32_t smss = effective_mss();
    // RFC 6928 §2: min(10*MSS, max(2*MSS, 14600)).
    uint32_t iw = kInitialWindowSegments * smss;
    uint32_t cap = 2 * smss > 14600 ? 2 * smss : 14600;
    cwnd = iw < cap ? iw : cap;
    ssthresh = 0xffffffff;
    bytes_acked = 0;
    dupacks = 0;
    in_recovery = false;
}

void TcpConnection::rtt_sample(uint64_t rtt) {
    if (rtt == 0) rtt = 1;
    if (!rtt_valid) {
        // RFC 6298 §2.2.
        srtt = rtt;
        rttvar = rtt / 2;
        rtt_valid = true;
    } else {
        // §2.3 with alpha = 1/8, beta = 1/4.
        uint64_t delta = srtt > rtt ? srtt - rtt : rtt - srtt;
        rttvar = (3 * rttvar + delta) / 4;
        srtt = (7 * srtt + rtt) / 8;
    }
    uint64_t variance = 4 * rttvar > kMs ? 4 * rttvar : kMs;  // G: 1 ms clock granularity
    rto = srtt + variance;
    if (rto < kMinRto) rto = kMinRto;
    if (rto > kMaxRto) rto = kMaxRto;
}

void TcpConnection::on_new_ack(uint32_t acked, const TcpSegment& seg) {
    uint32_t smss = effective_mss();
    if (ts_ok && seg.options.has_timestamp && seg.options.ts_ecr) {
        uint32_t ms = layer.ts_clock() + ts_offset - seg.options.ts_ecr;
        if (ms < 600000) rtt_sample(uint64_t{ms} * kMs + kMs / 2);
    } else if (rtt_timing && seq_geq(seg.ack, rtt_seq)) {
        rtt_timing = false;
        rtt_sample(layer.now - rtt_start);
    }
    // RFC 6298 §5.2/§5.3: stop the timer when all is acknowledged, else restart it.
    if (!persist) rexmit_deadline = snd_una == snd_max ? kNoDeadline : layer.now + rto;
    note_deadline(rexmit_deadline);

    if (in_recovery) {
        if (seq_geq(seg.ack, recover)) {
            // RFC 6582 §3.2 step 3: a full acknowledgment ends recovery.
            uint32_t deflated = flight() + smss;
            cwnd = ssthresh < deflated ? ssthresh : deflated;
            in_recovery = false;
            dupacks = 0;
        } else {
            // Step 4, partial acknowledgment: resend the next hole, deflate by what was acked.
            if (!retransmit_hole()) {
                uint32_t length = fin_seq() - snd_una;
                if (seq_lt(fin_seq(), snd_una)) length = 0;
                if (length > smss) length = smss;
                transmit(snd_una, length, true);
            }
            cwnd = cwnd > acked ? cwnd - acked : 0;
            if (acked >= smss) cwnd += smss;
            if (cwnd < smss) cwnd = smss;
        }
        return;
    }
    dupacks = 0;
    if (cwnd < ssthresh) {
        cwnd += acked < smss ? acked : smss;  // RFC 5681 §3.1 slow start (eq. 2)
    } else {
        // Congestion avoidance: one SMSS per window's worth of acknowledged bytes (RFC 5681
        // §3.1, the byte-counting variant).
        bytes_acked += acked;
        if (bytes_acked >= cwnd) {
            bytes_acked -= cwnd;
            cwnd += smss;
        }
    }
    if (cwnd > kMaxWindow) cwnd = kMaxWindow;
}

void TcpConnection::on_dupack(const TcpSegment& seg) {
    (void)seg;
    uint32_t smss = effective_mss();
    if (in_recovery) {
        cwnd += smss;  // RFC 6582 step 4's inflation: one more segment has left the network
        retransmit_hole();
        return;
    }
    ++dupacks;
    bool sack_loss = sack_ok && scoreboard.total() >= 3 * smss;  // RFC 6675 §5 IsLost()
    if (dupacks < 3 && !sack_loss) return;
    // RFC 6582 §3.2 step 2: not again for losses from before the last recovery.
    if (!seq_gt(snd_una, recover) && recover != 0 && seq_lt(snd_una, recover)) return;
    // RFC 5681 §3.2 eq. 4 and steps 2-3: halve, retransmit, inflate by the three segments.
    uint32_t half = flight() / 2;
    ssthresh = half > 2 * smss ? half : 2 * smss;
    recover = snd_max;
    in_recovery = true;
    high_rxt = snd_una;
    if (!retransmit_hole()) {
        uint32_t length = seq_lt(snd_una, fin_seq()) ? fin_seq() - snd_una : 0;
        transmit(snd_una, length < smss ? length : smss, true);
        high_rxt = snd_una + (length < smss ? length : smss);
    }
    cwnd = ssthresh + 3 * smss;
    rexmit_deadline = layer.now + rto;
    note_deadline(rexmit_deadline);
}

void TcpConnection::update_scoreboard(const TcpSegment& seg) {
    for (size_t i = 0; i < seg.options.sack_count; ++i) {
        SeqRange b = seg.options.sack[i];
        // RFC 2018 §4: only blocks inside what we sent and above the cumulative ACK count
        // (a D-SACK below it, RFC 2883, says nothing about holes).
        if (!seq_lt(b.start, b.end) || seq_gt(b.end, snd_max) || seq_leq(b.end, snd_una)) continue;
        if (seq_lt(b.start, snd_una)) b.start = snd_una;
        scoreboard.add(b.start, b.end);
    }
}

// RFC 6675 §4 NextSeg() rule 1: the first byte above high_rxt not SACKed, below the highest
// SACKed byte. Sends one segment of it; false when there is no such hole.
bool TcpConnection::retransmit_hole() {
    if (!sack_ok || scoreboard.empty()) return false;
    uint32_t smss = effective_mss();
    uint32_t seq = seq_max(high_rxt, snd_una);
    uint32_t top = scoreboard[scoreboard.count() - 1].end;
    uint32_t end = 0;
    while (seq_lt(seq, top) && scoreboard.contains(seq, &end)) seq = end;
    if (!seq_lt(seq, top)) return false;
    uint32_t stop = top;
    for (size_t i = 0; i < scoreboard.count(); ++i) {
        if (seq_gt(scoreboard[i].start, seq)) {
            stop = scoreboard[i].start;
            break;
        }
    }
    uint32_t length = stop - seq;
    if (length > smss) length = smss;
    uint32_t data_end = fin_seq();
    if (seq_gt(seq + length, data_end)) length = seq_lt(seq, data_end) ? data_end - seq : 0;
    transmit(seq, length, true);
    high_rxt = seq + (length ? length : 1);
    return true;
}

void TcpConnection::on_timeout() {
    uint32_t smss = effective_mss();
    // RFC 5681 §3.1 eq. 4 and the loss window; RFC 6582 §4 keeps later dup ACKs for data
    // sent before the timeout from starting another fast retransmit.
    uint32_t half = flight() / 2;
    ssthresh = half > 2 * smss ? half : 2 * smss;
    cwnd = smss;
    bytes_acked = 0;
    dupacks = 0;
    in_recovery = false;
    recover = snd_max;
    scoreboard.clear();  // RFC 2018 §8: the receiver may have dropped what it SACKed
    // RFC 6298 §5.5: back off the timer.
    rto = rto * 2 > kMaxRto ? kMaxRto : rto * 2;
    snd_nxt = snd_una;
    rtt_timing = false;
}

}  // namespace lib::net
