// The receiving side and connection control against a hand-written peer: reassembly with SACK
// reports, delayed ACKs, RST and SYN handling per RFC 5961, keepalive, passive opens, SYN
// floods, resets for closed ports, ports and the small helpers (sequence arithmetic, ranges).
#include "lib/net/tcp_buffers.h"
#include "lib/net/tcp_seq.h"
#include "tests/unit/tcp_peer_test.h"

namespace tcp_test {
namespace {

using namespace tcp_flags;
using TcpReceiver = PeerTest;

TEST(TcpSeq, ComparisonsWrapAround) {
    EXPECT_TRUE(seq_lt(0xfffffff0u, 0x10u));
    EXPECT_TRUE(seq_gt(0x10u, 0xfffffff0u));
    EXPECT_TRUE(seq_leq(5u, 5u));
    EXPECT_FALSE(seq_lt(5u, 5u));
    EXPECT_EQ(seq_max(0xffffffffu, 1u), 1u);
    EXPECT_EQ(seq_min(0xffffffffu, 1u), 0xffffffffu);
    EXPECT_TRUE(seq_in(2u, 0xfffffffeu, 5u));
    EXPECT_FALSE(seq_in(5u, 0xfffffffeu, 5u));
}

TEST(TcpBuffers, RangesMergeAcrossWrap) {
    SeqRanges r;
    EXPECT_TRUE(r.add(0xfffffff0u, 0xfffffff8u));
    EXPECT_TRUE(r.add(0x10u, 0x20u));
    EXPECT_EQ(r.count(), 2u);
    EXPECT_TRUE(r.add(0xfffffff8u, 0x10u));  // fills the gap across zero
    ASSERT_EQ(r.count(), 1u);
    EXPECT_EQ(r[0].start, 0xfffffff0u);
    EXPECT_EQ(r[0].end, 0x20u);
    r.remove_below(0x8u);
    EXPECT_EQ(r[0].start, 0x8u);
    for (uint32_t i = 0; i < SeqRanges::kMax - 1; ++i)
        EXPECT_TRUE(r.add(100 + 10 * i, 105 + 10 * i));
    EXPECT_FALSE(r.add(1000, 1001));  // bounded
}

TEST(TcpBuffers, RingWrapsAndSplitsPieces) {
    ByteRing ring;
    ASSERT_TRUE(ring.allocate(8));
    auto a = bytes_of(6);
    EXPECT_EQ(ring.append(a), 6u);
    ring.consume(5);
    EXPECT_EQ(ring.append(bytes_of(10, 2)), 7u);
    std::span<const uint8_t> parts[2];
    ring.pieces(0, 8, parts);
    EXPECT_EQ(parts[0].size() + parts[1].size(), 8u);
    EXPECT_FALSE(parts[1].empty());
    std::vector<uint8_t> outb(8);
    EXPECT_EQ(ring.copy_out(0, outb), 8u);
    EXPECT_EQ(outb[0], a[5]);
}

TEST(TcpOptions, WriteThenParse) {
    uint8_t buf[40];
    SeqRange blocks[2] = {{10, 20}, {30, 40}};
    OptionsToSend o{1460, 7, true, true, 11, 22, {blocks, 2}};
    size_t n = write_options(buf, o);
    EXPECT_EQ(n % 4, 0u);
    std::vector<uint8_t> seg(20 + n);
    seg[12] = uint8_t((20 + n) / 4 << 4);
    std::copy(buf, buf + n, seg.begin() + 20);
    TcpSegment s;
    ASSERT_TRUE(parse_segment(seg, s));
    EXPECT_EQ(s.options.mss, 1460);
    EXPECT_EQ(s.options.wscale, 7);
    EXPECT_TRUE(s.options.sack_permitted);
    EXPECT_EQ(s.options.ts_val, 11u);
    EXPECT_EQ(s.options.sack_count, 2u);
    EXPECT_EQ(s.options.sack[1].end, 40u);
    seg[12] = 0x40;  // data offset 4: malformed
    EXPECT_FALSE(parse_segment(seg, s));
}

TEST_F(TcpReceiver, OutOfOrderReassembledWithSackBlocks) {
    open_active(cat({opt_mss(1000), opt_sack_ok()}));
    auto data = bytes_of(3000);
    uint32_t base = peer_seq;
    auto piece = [&](int i) {
        Seg s =
            seg(kAck, std::vector<uint8_t>(data.begin() + 1000 * i, data.begin() + 1000 * (i + 1)));
        s.seq = base + 1000 * i;
        return s;
    };
    send(piece(2));
    auto acks = out();
    ASSERT_EQ(acks.size(), 1u);  // at once: out of order
    TcpSegment a = acks[0].segment();
    EXPECT_EQ(a.ack, base);
    ASSERT_EQ(a.options.sack_count, 1u);
    EXPECT_EQ(a.options.sack[0].start, base + 2000);
    EXPECT_EQ(a.options.sack[0].end, base + 3000);
    EXPECT_EQ(sock->readable_bytes(), 0u);
    send(piece(0));
    a = out().at(0).segment();
    EXPECT_EQ(a.ack, base + 1000);
    EXPECT_EQ(a.options.sack_count, 1u);
    send(piece(1));  // fills the hole: acknowledged at once, no SACK left
    a = out().at(0).segment();
    EXPECT_EQ(a.ack, base + 3000);
    EXPECT_EQ(a.options.sack_count, 0u);
    std::vector<uint8_t> got(4000);
    ASSERT_EQ(sock->recv(got).value(), 3000u);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), got.begin()));
}

TEST_F(TcpReceiver, DelayedAckAfter40msOrEverySecondSegment) {
    open_active(opt_mss(1000));
    send(seg(kAck | kPsh, bytes_of(100)));
    peer_seq += 100;
    EXPECT_TRUE(out().empty());
    advance(39 * kMs);
    EXPECT_TRUE(out().empty());
    advance(1 * kMs);
    auto acks = out();
    ASSERT_EQ(acks.size(), 1u);
    EXPECT_EQ(acks[0].segment().ack, peer_seq);
    send(seg(kAck, bytes_of(1000)));
    peer_seq += 1000;
    EXPECT_TRUE(out().empty());
    send(seg(kAck, bytes_of(1000)));
    peer_seq += 1000;
    acks = out();
    ASSERT_EQ(acks.size(), 1u);  // the second full segment: ACK now
    EXPECT_EQ(acks[0].segment().ack, peer_seq);
}

TEST_F(TcpReceiver, WindowUpdateWhenTheApplicationReads) {
    sock = layer->create().value();
    sock->options().receive_buffer = 4096;
    open_active(opt_mss(1000));
    for (int i = 0; i < 4; ++i) {
        send(seg(kAck, bytes_of(1024)));
        peer_seq += 1024;
    }
    auto acks = out();
    ASSERT_FALSE(acks.empty());
    EXPECT_EQ(acks.back().segment().window, 0);  // full
    send(seg(kAck, bytes_of(10)));               // beyond the window: dropped
    EXPECT_EQ(sock->readable_bytes(), 4096u);
    out();
    std::vector<uint8_t> got(4096);
    ASSERT_EQ(sock->recv(got).value(), 4096u);
    acks = out();
    ASSERT_EQ(acks.size(), 1u);
    EXPECT_GT(acks[0].segment().window, 0);
}

TEST_F(TcpReceiver, ExactRstResetsInWindowRstDrawsChallengeAck) {
    open_active();
    Seg rst = seg(kRst);
    rst.seq = peer_seq + 100;  // in the window, not exact
    send(rst);
    EXPECT_EQ(sock->state(), TcpState::Established);
    auto challenge = out();
    ASSERT_EQ(challenge.size(), 1u);
    EXPECT_EQ(challenge[0].segment().flags, kAck);
    rst.seq = peer_seq + 10000000;  // outside: ignored
    send(rst);
    EXPECT_TRUE(out().empty());
    Seg syn = seg(kSyn);
    send(syn);  // RFC 5961 §4: a SYN in ESTABLISHED is challenged
    EXPECT_EQ(out().size(), 1u);
    EXPECT_EQ(sock->state(), TcpState::Established);
    send(seg(kRst));
    EXPECT_EQ(sock->state(), TcpState::Closed);
    EXPECT_TRUE(sock->poll_events() & events::kHup);
    std::vector<uint8_t> buf(10);
    EXPECT_EQ(sock->recv(buf).error(), Errno::ConnReset);
    EXPECT_EQ(sock->send(buf).error(), Errno::Pipe);
}

TEST_F(TcpReceiver, RstInSynSentNeedsAnAcceptableAck) {
    sock = layer->create().value();
    ASSERT_EQ(sock->connect({kHostB, 80}).error(), Errno::InProgress);
    TcpSegment syn = out()[0].segment();
    our_port = syn.source_port;
    peer_port = 80;
    send(seg(kRst | kAck, {}, syn.seq + 7));  // wrong ACK: answered by nothing, ignored
    EXPECT_EQ(sock->state(), TcpState::SynSent);
    send(seg(kRst, {}, 0));
    EXPECT_EQ(sock->state(), TcpState::SynSent);
    send(seg(kRst | kAck, {}, syn.seq + 1));
    EXPECT_EQ(sock->state(), TcpState::Closed);
    EXPECT_EQ(sock->take_error(), Errno::ConnRefused);
}

TEST_F(TcpReceiver, RstInTimeWaitAndLastAckCloses) {
    open_active();
    ASSERT_FALSE(sock->shutdown(false, true).is_error());
    TcpSegment fin = out().at(0).segment();
    EXPECT_TRUE(fin.has(kFin));
    send(seg(kAck | kFin, {}, fin.seq + 1));
    peer_seq += 1;
    EXPECT_EQ(sock->state(), TcpState::TimeWait);
    send(seg(kRst));
    EXPECT_EQ(sock->state(), TcpState::Closed);
}

TEST_F(TcpReceiver, SimultaneousOpen) {
    sock = layer->create().value();
    ASSERT_EQ(sock->connect({kHostB, 80}).error(), Errno::InProgress);
    TcpSegment syn = out()[0].segment();
    our_port = syn.source_port;
    peer_port = 80;
    Seg their_syn = seg(kSyn);
    their_syn.options = opt_mss(1000);
    send(their_syn);
    EXPECT_EQ(sock->state(), TcpState::SynReceived);
    TcpSegment synack = out().at(0).segment();
    EXPECT_EQ(synack.flags, kSyn | kAck);
    EXPECT_EQ(synack.seq, syn.seq);
    EXPECT_EQ(synack.ack, peer_seq + 1);
    peer_seq += 1;
    send(seg(kAck, {}, syn.seq + 1));
    EXPECT_EQ(sock->state(), TcpState::Established);
}

TEST_F(TcpReceiver, KeepaliveProbesThenTimesOut) {
    open_active();
    sock->options().keepalive = true;
    sock->options().keepalive_idle_s = 10;
    sock->options().keepalive_interval_s = 2;
    sock->options().keepalive_count = 3;
    sock->options_changed();
    advance(10000 * kMs);
    auto probe = out();
    ASSERT_EQ(probe.size(), 1u);
    EXPECT_EQ(probe[0].segment().seq, our_seq - 1);
    send(seg(kAck));  // answered: alive, the idle period starts again
    advance(2000 * kMs);
    EXPECT_TRUE(out().empty());
    int probes = 0;
    for (int i = 0; i < 20 && sock->state() == TcpState::Established; ++i) {
        env.now = layer->next_deadline();
        layer->run_timers(env.now);
        probes += static_cast<int>(out().size());
    }
    EXPECT_EQ(probes, 3);
    EXPECT_EQ(sock->state(), TcpState::Closed);
    EXPECT_EQ(sock->take_error(), Errno::TimedOut);
}

TEST_F(TcpReceiver, ClosedPortAnswersWithRst) {
    Seg syn;
    syn.dport = 81;
    syn.seq = 1000;
    syn.flags = kSyn;
    send(syn);
    auto r = out();
    ASSERT_EQ(r.size(), 1u);
    TcpSegment s = r[0].segment();
    EXPECT_EQ(s.flags, kRst | kAck);
    EXPECT_EQ(s.ack, 1001u);
    Seg ack = syn;
    ack.flags = kAck;
    ack.ack = 4242;
    send(ack);
    s = out().at(0).segment();
    EXPECT_EQ(s.flags, kRst);
    EXPECT_EQ(s.seq, 4242u);
    Seg rst = syn;
    rst.flags = kRst;
    send(rst);
    EXPECT_TRUE(out().empty());  // never a RST for a RST
}

TEST_F(TcpReceiver, BadChecksumIsDropped) {
    Seg syn;
    syn.dport = 81;
    syn.flags = kSyn;
    auto bytes = build(syn, kHostB, kHostA);
    bytes[4] ^= 1;
    deliver(*layer, bytes, kHostB, kHostA);
    EXPECT_TRUE(out().empty());
    EXPECT_EQ(layer->stats().bad_segments, 1u);
}

TEST_F(TcpReceiver, CloseWithUnreadDataResets) {
    open_active();
    send(seg(kAck, bytes_of(10)));
    out();
    sock->close();
    auto r = out();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_TRUE(r[0].segment().has(kRst));
    EXPECT_EQ(count_connections(*layer), 0u);
}

TEST_F(TcpReceiver, LingerZeroResets) {
    open_active();
    sock->options().linger_s = 0;
    sock->close();
    auto r = out();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_TRUE(r[0].segment().has(kRst));
}

struct TcpListen : PeerTest {
    TcpSocket* listener = nullptr;
    uint32_t server_isn = 0;
    void listen(int backlog = 16, uint16_t port = 80) {
        listener = layer->create().value();
        ASSERT_FALSE(listener->bind({kAnyAddress, port}).is_error());
        ASSERT_FALSE(listener->listen(backlog).is_error());
    }
    // A client's handshake from `port`; returns the accepted socket or nullptr.
    TcpSocket* handshake(uint16_t port, uint32_t isn = 9000) {
        Seg syn;
        syn.sport = port;
        syn.dport = 80;
        syn.seq = isn;
        syn.flags = kSyn;
        syn.options = opt_mss(1460);
        send(syn);
        auto r = out();
        if (r.size() != 1) return nullptr;
        TcpSegment sa = r[0].segment();
        if (sa.flags != (kSyn | kAck) || sa.ack != isn + 1) return nullptr;
        Seg ack = syn;
        ack.flags = kAck;
        ack.seq = isn + 1;
        ack.ack = sa.seq + 1;
        ack.options = {};
        server_isn = sa.seq;
        send(ack);
        auto a = listener->accept();
        return a.is_error() ? nullptr : a.value();
    }
};

TEST_F(TcpListen, PassiveHandshakeEchoesOptions) {
    listen();
    Seg syn;
    syn.seq = 100;
    syn.flags = kSyn;
    syn.options = cat({opt_mss(1400), opt_sack_ok(), opt_ts(5, 0), opt_ws(5)});
    send(syn);
    TcpSegment sa = out().at(0).segment();
    EXPECT_EQ(sa.flags, kSyn | kAck);
    EXPECT_EQ(sa.options.mss, 1460);
    EXPECT_EQ(sa.options.wscale, 2);
    EXPECT_TRUE(sa.options.sack_permitted);
    EXPECT_EQ(sa.options.ts_ecr, 5u);
    EXPECT_EQ(listener->accept().error(), Errno::Again);
    Seg ack = syn;
    ack.flags = kAck;
    ack.seq = 101;
    ack.ack = sa.seq + 1;
    ack.options = opt_ts(6, sa.options.ts_val);
    send(ack);
    auto s = listener->accept();
    ASSERT_FALSE(s.is_error());
    EXPECT_EQ(s.value()->state(), TcpState::Established);
}

TEST_F(TcpListen, PeerWithoutOptionsGetsNone) {
    listen();
    Seg syn;
    syn.seq = 100;
    syn.flags = kSyn;
    syn.options = opt_mss(1000);
    send(syn);
    TcpSegment sa = out().at(0).segment();
    EXPECT_EQ(sa.options.wscale, -1);
    EXPECT_FALSE(sa.options.has_timestamp);
    EXPECT_FALSE(sa.options.sack_permitted);
}

TEST_F(TcpListen, RstToHalfOpenChildKeepsListening) {
    listen();
    Seg syn;
    syn.seq = 100;
    syn.flags = kSyn;
    send(syn);
    out();
    EXPECT_EQ(count_connections(*layer), 2u);
    Seg rst = syn;
    rst.flags = kRst;
    rst.seq = 101;
    send(rst);
    EXPECT_EQ(count_connections(*layer), 1u);
    EXPECT_NE(handshake(6000), nullptr);
}

TEST_F(TcpListen, SynFloodStaysBoundedAndRealClientsConnect) {
    make({.max_connections = 4096, .syn_backlog = 16});
    listen(16);
    TcpSocket* before = handshake(4000);
    ASSERT_NE(before, nullptr);
    uint32_t before_isn = server_isn;
    for (uint32_t i = 0; i < 10000; ++i) {
        Seg syn;
        syn.sport = static_cast<uint16_t>(10000 + i);
        syn.seq = i * 7919;
        syn.flags = kSyn;
        IncomingPacket p;
        auto bytes = build(syn, Ipv4Address{kHostB.value + (i >> 8)}, kHostA);
        deliver(*layer, bytes, Ipv4Address{kHostB.value + (i >> 8)}, kHostA);
        if (i % 1000 == 0) out();
    }
    out();
    EXPECT_LE(count_connections(*layer), 2u + 16u);  // listener, one connection, SYN backlog
    EXPECT_GE(layer->stats().syn_dropped, 10000u - 16u);
    // A real client during the flood is answered with a cookie and gets in.
    TcpSocket* during = handshake(3000, 123456);
    ASSERT_NE(during, nullptr);
    EXPECT_EQ(during->state(), TcpState::Established);
    // The established connection still carries data.
    Seg data;
    data.sport = 4000;
    data.seq = 9001;
    data.flags = kAck | kPsh;
    data.ack = before_isn + 1;
    data.data = bytes_of(50);
    std::vector<uint8_t> got(100);
    send(data);
    EXPECT_EQ(before->recv(got).value(), 50u);
    // A forged ACK with a bad cookie is answered with RST and creates nothing.
    size_t count = count_connections(*layer);
    Seg forged;
    forged.sport = 3333;
    forged.seq = 1;
    forged.ack = 0xdeadbeef;
    forged.flags = kAck;
    out();
    send(forged);
    EXPECT_EQ(count_connections(*layer), count);
    EXPECT_TRUE(out().at(0).segment().has(kRst));
    // Half-open entries expire after their SYN-ACK retries.
    for (int i = 0; i < 100 && layer->next_deadline() != kNoDeadline; ++i) {
        env.now = layer->next_deadline();
        layer->run_timers(env.now);
    }
    EXPECT_EQ(count_connections(*layer), 3u);
}

TEST_F(TcpListen, AcceptQueueLimit) {
    listen(2);
    EXPECT_NE(handshake(6001), nullptr);
    // Two complete without accept(); the third completing ACK is dropped.
    for (uint16_t port : {6002, 6003, 6004}) {
        Seg syn;
        syn.sport = port;
        syn.seq = 1;
        syn.flags = kSyn;
        send(syn);
        auto r = out();
        if (r.empty()) continue;
        Seg ack = syn;
        ack.flags = kAck;
        ack.seq = 2;
        ack.ack = r[0].segment().seq + 1;
        send(ack);
    }
    int accepted = 0;
    while (!listener->accept().is_error()) ++accepted;
    EXPECT_EQ(accepted, 2);
}

TEST_F(TcpListen, BindConflictsAndReusePortSpreads) {
    listen();
    TcpSocket* other = layer->create().value();
    EXPECT_EQ(other->bind({kAnyAddress, 80}).error(), Errno::AddrInUse);
    EXPECT_EQ(other->bind({Ipv4Address::from(1, 2, 3, 4), 81}).error(), Errno::AddrNotAvail);
    other->close();
    TcpSocket* l1 = layer->create().value();
    TcpSocket* l2 = layer->create().value();
    l1->options().reuse_port = l2->options().reuse_port = true;
    ASSERT_FALSE(l1->bind({kAnyAddress, 90}).is_error());
    ASSERT_FALSE(l2->bind({kAnyAddress, 90}).is_error());
    ASSERT_FALSE(l1->listen(64).is_error());
    ASSERT_FALSE(l2->listen(64).is_error());
    for (uint16_t port = 7000; port < 7040; ++port) {
        Seg syn;
        syn.sport = port;
        syn.dport = 90;
        syn.seq = 5;
        syn.flags = kSyn;
        send(syn);
        TcpSegment sa = out().at(0).segment();
        Seg ack = syn;
        ack.flags = kAck;
        ack.seq = 6;
        ack.ack = sa.seq + 1;
        send(ack);
    }
    int n1 = 0, n2 = 0;
    while (!l1->accept().is_error()) ++n1;
    while (!l2->accept().is_error()) ++n2;
    EXPECT_EQ(n1 + n2, 40);
    EXPECT_GT(n1, 5);
    EXPECT_GT(n2, 5);
}

TEST_F(TcpReceiver, IdleLayerHasNoTimers) {
    open_active();
    advance(1000 * kMs);
    out();
    EXPECT_EQ(layer->next_deadline(), kNoDeadline);
}

}  // namespace
}  // namespace tcp_test
