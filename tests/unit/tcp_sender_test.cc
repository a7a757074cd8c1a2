// The sending side against a hand-written peer: options negotiation, retransmission timer and
// backoff, fast retransmit and SACK-driven recovery, zero-window probing, Nagle.
#include "tests/unit/tcp_peer_test.h"

namespace tcp_test {
namespace {

using namespace tcp_flags;
using TcpSender = PeerTest;

TEST_F(TcpSender, SynOffersAllOptions) {
    sock = layer->create().value();
    ASSERT_EQ(sock->connect({kHostB, 80}).error(), Errno::InProgress);
    auto syn = out();
    ASSERT_EQ(syn.size(), 1u);
    TcpSegment s = syn[0].segment();
    EXPECT_EQ(s.flags, kSyn);
    EXPECT_EQ(s.options.mss, 1460);
    EXPECT_EQ(s.options.wscale, 2);  // 128 KiB receive buffer
    EXPECT_TRUE(s.options.sack_permitted);
    EXPECT_TRUE(s.options.has_timestamp);
    EXPECT_EQ(s.options.ts_ecr, 0u);
}

TEST_F(TcpSender, PeerWithoutOptionsGetsPlainSegmentsOfItsMss) {
    open_active(opt_mss(1000));
    sock->options().nodelay = true;
    auto data = bytes_of(5000);
    ASSERT_EQ(sock->send(data).value(), 5000u);
    auto segs = out();
    ASSERT_EQ(segs.size(), 5u);
    for (auto& w : segs) {
        EXPECT_EQ(w.bytes.size(), 20u + 1000u);  // no options at all
        EXPECT_FALSE(w.segment().options.has_timestamp);
    }
}

TEST_F(TcpSender, TimestampsAndWindowScaleNegotiated) {
    open_active(cat({opt_mss(1460), opt_sack_ok(), opt_ts(777, 0), opt_ws(3)}));
    // After the SYN the peer's windows are scaled by 8: 1000 << 3 = 8000 bytes, room for five
    // segments of 1448 (the rest waits: a 760-byte runt would be silly-window syndrome).
    Seg update = seg(kAck, {}, our_seq);
    update.window = 1000;
    update.options = opt_ts(778, 0);
    send(update);
    sock->options().nodelay = true;
    ASSERT_EQ(sock->send(bytes_of(20000)).value(), 20000u);
    auto segs = data_of(out());
    ASSERT_EQ(segs.size(), 5u);
    EXPECT_EQ(segs[0].payload.size(), 1448u);  // 1460 less the timestamp option
    EXPECT_TRUE(segs[0].options.has_timestamp);
    EXPECT_EQ(segs[0].options.ts_ecr, 778u);
}

TEST_F(TcpSender, RetransmissionTimerBacksOffAndRecovers) {
    open_active();
    ASSERT_EQ(sock->send(bytes_of(100)).value(), 100u);
    auto first = data_of(out());
    ASSERT_EQ(first.size(), 1u);
    std::vector<uint64_t> gaps;
    uint64_t last = env.now;
    for (int i = 0; i < 4; ++i) {
        uint64_t deadline = layer->next_deadline();
        ASSERT_NE(deadline, kNoDeadline);
        gaps.push_back(deadline - last);
        last = deadline;
        env.now = deadline;
        layer->run_timers(env.now);
        auto again = data_of(out());
        ASSERT_EQ(again.size(), 1u);
        EXPECT_EQ(again[0].seq, first[0].seq);
    }
    EXPECT_EQ(gaps[0], 200 * kMs);  // the handshake's RTT was ~0: Linux's minimum RTO
    for (size_t i = 1; i < gaps.size(); ++i) EXPECT_EQ(gaps[i], 2 * gaps[i - 1]);
    EXPECT_EQ(layer->stats().retransmits, 4u);
    send(seg(kAck, {}, our_seq + 100));
    EXPECT_EQ(sock->unacknowledged_bytes(), 0u);
    // next_deadline() is a lower bound: at most one wakeup finds nothing due, then none.
    if (uint64_t stale = layer->next_deadline(); stale != kNoDeadline) {
        env.now = stale > env.now ? stale : env.now;
        layer->run_timers(env.now);
        EXPECT_TRUE(out().empty()) << "a cancelled retransmission fired";
    }
    EXPECT_EQ(layer->next_deadline(), kNoDeadline);
}

TEST_F(TcpSender, SynRetriesThenTimedOut) {
    sock = layer->create().value();
    Observer seen;
    sock->set_observer(&seen);
    ASSERT_EQ(sock->connect({kHostB, 80}).error(), Errno::InProgress);
    int syns = static_cast<int>(out().size());
    uint64_t start = env.now;
    while (layer->next_deadline() != kNoDeadline) {
        env.now = layer->next_deadline();
        layer->run_timers(env.now);
        syns += static_cast<int>(out().size());
    }
    EXPECT_EQ(syns, 7);                        // the SYN and 6 retries
    EXPECT_EQ(env.now - start, 127000 * kMs);  // 1+2+4+8+16+32+64 s
    EXPECT_EQ(sock->state(), TcpState::Closed);
    EXPECT_TRUE(seen.seen & events::kErr);
    EXPECT_EQ(sock->take_error(), Errno::TimedOut);
}

TEST_F(TcpSender, FastRetransmitAfterThreeDupAcks) {
    open_active();
    sock->options().nodelay = true;
    ASSERT_EQ(sock->send(bytes_of(10000)).value(), 10000u);
    auto segs = data_of(out());
    ASSERT_EQ(segs.size(), 10u);
    for (int i = 0; i < 2; ++i) send(seg(kAck, {}, our_seq));
    EXPECT_TRUE(data_of(out()).empty());  // two duplicates are not enough
    send(seg(kAck, {}, our_seq));
    auto rexmit = data_of(out());
    ASSERT_GE(rexmit.size(), 1u);
    EXPECT_EQ(rexmit[0].seq, our_seq);
    EXPECT_EQ(layer->stats().retransmits, 1u);
}

TEST_F(TcpSender, SackScoreboardRetransmitsEveryHole) {
    open_active(cat({opt_mss(1000), opt_sack_ok()}));
    sock->options().nodelay = true;
    ASSERT_EQ(sock->send(bytes_of(10000)).value(), 10000u);
    ASSERT_EQ(data_of(out()).size(), 10u);
    // Segments 0 and 3 were lost; the peer SACKs 1-2 and 4-9.
    uint32_t base = our_seq;
    auto sacks = opt_sack({{base + 1000, base + 3000}, {base + 4000, base + 10000}});
    std::vector<uint32_t> resent;
    for (int i = 0; i < 3; ++i) {
        Seg dup = seg(kAck, {}, base);
        dup.options = sacks;
        send(dup);
        for (auto& s : data_of(out())) resent.push_back(s.seq);
    }
    ASSERT_GE(resent.size(), 1u);
    EXPECT_EQ(resent[0], base);
    // The ACK for segment 0 is partial; the hole at 3000 goes next, without waiting for an RTO.
    Seg partial = seg(kAck, {}, base + 3000);
    partial.options = opt_sack({{base + 4000, base + 10000}});
    send(partial);
    for (auto& s : data_of(out())) resent.push_back(s.seq);
    EXPECT_NE(std::find(resent.begin(), resent.end(), base + 3000), resent.end());
    for (uint32_t s : resent) EXPECT_TRUE(s == base || s == base + 3000) << s - base;
}

TEST_F(TcpSender, ZeroWindowProbesUntilTheWindowOpens) {
    open_active(opt_mss(1000), 0);
    ASSERT_EQ(sock->send(bytes_of(3000)).value(), 3000u);
    EXPECT_TRUE(data_of(out()).empty());
    uint64_t first = layer->next_deadline();
    ASSERT_NE(first, kNoDeadline);
    std::vector<uint64_t> probe_times;
    for (int i = 0; i < 3; ++i) {
        env.now = layer->next_deadline();
        layer->run_timers(env.now);
        auto probes = out();
        ASSERT_EQ(probes.size(), 1u);
        EXPECT_EQ(probes[0].segment().seq, our_seq - 1);  // below snd_una: must be answered
        probe_times.push_back(env.now);
        Seg still_closed = seg(kAck, {}, our_seq);
        still_closed.window = 0;
        send(still_closed);
        EXPECT_TRUE(out().empty());
    }
    EXPECT_GT(probe_times[2] - probe_times[1], probe_times[1] - probe_times[0]);  // backoff
    send(seg(kAck, {}, our_seq));                                                 // window opens
    auto segs = data_of(out());
    ASSERT_EQ(segs.size(), 3u);
    EXPECT_EQ(segs[0].seq, our_seq);
}

TEST_F(TcpSender, NagleHoldsSmallSegmentsUntilAcked) {
    open_active();
    ASSERT_EQ(sock->send(bytes_of(1)).value(), 1u);
    EXPECT_EQ(data_of(out()).size(), 1u);
    ASSERT_EQ(sock->send(bytes_of(1)).value(), 1u);
    ASSERT_EQ(sock->send(bytes_of(1)).value(), 1u);
    EXPECT_TRUE(data_of(out()).empty());  // one small segment in flight: wait
    send(seg(kAck, {}, our_seq + 1));
    auto segs = data_of(out());
    ASSERT_EQ(segs.size(), 1u);
    EXPECT_EQ(segs[0].payload.size(), 2u);  // coalesced
}

TEST_F(TcpSender, NodelaySendsAtOnceAndCorkHolds) {
    open_active();
    sock->options().nodelay = true;
    sock->options_changed();
    for (int i = 0; i < 3; ++i) ASSERT_EQ(sock->send(bytes_of(1)).value(), 1u);
    EXPECT_EQ(data_of(out()).size(), 3u);
    ASSERT_EQ(sock->send(bytes_of(10), true).value(), 10u);  // MSG_MORE
    EXPECT_TRUE(data_of(out()).empty());
    ASSERT_EQ(sock->send(bytes_of(10)).value(), 10u);
    auto segs = data_of(out());
    ASSERT_EQ(segs.size(), 1u);
    EXPECT_EQ(segs[0].payload.size(), 20u);
}

TEST_F(TcpSender, SendBufferIsBounded) {
    open_active(opt_mss(1000), 0);
    sock->options().send_buffer = 8192;
    auto r = sock->send(bytes_of(20000));
    ASSERT_FALSE(r.is_error());
    EXPECT_EQ(r.value(), 8192u);
    EXPECT_EQ(sock->send(bytes_of(10)).error(), Errno::Again);
    EXPECT_FALSE(sock->poll_events() & events::kOut);
}

TEST_F(TcpSender, FragmentationNeededLowersMss) {
    open_active(opt_mss(1460));
    sock->options().nodelay = true;
    ASSERT_EQ(sock->send(bytes_of(3000)).value(), 3000u);
    auto first = data_of(out());
    ASSERT_EQ(first[0].payload.size(), 1460u);
    // The ICMP quote: an IPv4 header and the first 8 bytes of our segment.
    std::vector<uint8_t> quote(28);
    quote[0] = 0x45;
    quote[9] = kProtocolTcp;
    store_be32(&quote[12], kHostA.value);
    store_be32(&quote[16], kHostB.value);
    store_be16(&quote[20], our_port);
    store_be16(&quote[22], 80);
    store_be32(&quote[24], our_seq);
    layer->icmp_error(quote, Errno::MsgSize, 1000);
    auto again = data_of(out());
    ASSERT_FALSE(again.empty());
    EXPECT_EQ(again[0].seq, our_seq);
    for (auto& s : again) EXPECT_LE(s.payload.size(), 960u);
}

TEST_F(TcpSender, IcmpUnreachableFailsConnect) {
    sock = layer->create().value();
    ASSERT_EQ(sock->connect({kHostB, 80}).error(), Errno::InProgress);
    TcpSegment syn = out()[0].segment();
    std::vector<uint8_t> quote(28);
    quote[0] = 0x45;
    quote[9] = kProtocolTcp;
    store_be32(&quote[12], kHostA.value);
    store_be32(&quote[16], kHostB.value);
    store_be16(&quote[20], syn.source_port);
    store_be16(&quote[22], 80);
    store_be32(&quote[24], syn.seq + 5);  // not a number we sent: ignored (RFC 5927)
    layer->icmp_error(quote, Errno::HostUnreach, 0);
    EXPECT_EQ(sock->state(), TcpState::SynSent);
    store_be32(&quote[24], syn.seq);
    layer->icmp_error(quote, Errno::HostUnreach, 0);
    EXPECT_EQ(sock->state(), TcpState::Closed);
    EXPECT_EQ(sock->take_error(), Errno::HostUnreach);
}

}  // namespace
}  // namespace tcp_test
