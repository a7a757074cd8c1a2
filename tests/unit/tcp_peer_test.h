// A TcpLayer under test facing a hand-written peer (10.0.0.2) that crafts every segment.
#pragma once

#include <memory>

#include "tests/unit/tcp_test_harness.h"

namespace tcp_test {

inline std::vector<uint8_t> opt_mss(uint16_t mss) {
    return {2, 4, uint8_t(mss >> 8), uint8_t(mss)};
}
inline std::vector<uint8_t> opt_ws(uint8_t shift) { return {1, 3, 3, shift}; }
inline std::vector<uint8_t> opt_sack_ok() { return {1, 1, 4, 2}; }
inline std::vector<uint8_t> opt_ts(uint32_t val, uint32_t ecr) {
    std::vector<uint8_t> o = {1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0};
    store_be32(&o[4], val);
    store_be32(&o[8], ecr);
    return o;
}
inline std::vector<uint8_t> opt_sack(std::vector<std::pair<uint32_t, uint32_t>> blocks) {
    std::vector<uint8_t> o = {1, 1, 5, uint8_t(2 + 8 * blocks.size())};
    for (auto [s, e] : blocks) {
        o.resize(o.size() + 8);
        store_be32(&o[o.size() - 8], s);
        store_be32(&o[o.size() - 4], e);
    }
    return o;
}
inline std::vector<uint8_t> cat(std::initializer_list<std::vector<uint8_t>> parts) {
    std::vector<uint8_t> o;
    for (auto& p : parts) o.insert(o.end(), p.begin(), p.end());
    return o;
}

struct PeerTest : ::testing::Test {
    FakeEnv env;
    FakeIp ip{kHostA};
    TcpLimits limits;
    std::unique_ptr<TcpLayer> layer;
    // The connection under test, seen from the peer: what it sends next and expects next.
    TcpSocket* sock = nullptr;
    uint16_t our_port = 0, peer_port = 5000;
    uint32_t peer_seq = 70000, our_seq = 0;

    void make(TcpLimits l = {}) {
        limits = l;
        layer = std::make_unique<TcpLayer>(ip, env, limits);
    }
    void SetUp() override { make(); }
    void send(Seg s) { deliver(*layer, build(s, kHostB, kHostA), kHostB, kHostA); }
    std::vector<Wire> out() { return ip.take(); }
    void advance(uint64_t ns) {
        env.now += ns;
        layer->run_timers(env.now);
    }
    // Peer segment on the connection under test.
    Seg seg(uint8_t flags, std::vector<uint8_t> data = {}, uint32_t ack = 0) {
        Seg s;
        s.sport = peer_port;
        s.dport = our_port;
        s.seq = peer_seq;
        s.ack = ack ? ack : our_seq;
        s.flags = flags;
        s.data = std::move(data);
        return s;
    }
    // Active open answered with `options`; leaves the final ACK consumed.
    void open_active(std::vector<uint8_t> options = opt_mss(1000), uint16_t window = 65535) {
        if (!sock) sock = layer->create().value();
        ASSERT_EQ(sock->connect({kHostB, 80}).error(), Errno::InProgress);
        auto syn = out();
        ASSERT_EQ(syn.size(), 1u);
        TcpSegment s = syn[0].segment();
        our_port = s.source_port;
        peer_port = 80;
        our_seq = s.seq + 1;
        Seg synack = seg(tcp_flags::kSyn | tcp_flags::kAck, {}, our_seq);
        synack.options = std::move(options);
        synack.window = window;
        send(synack);
        peer_seq += 1;
        ASSERT_EQ(sock->state(), TcpState::Established);
        auto ack = out();
        ASSERT_EQ(ack.size(), 1u);
        EXPECT_EQ(ack[0].segment().ack, peer_seq);
    }
    // Segments the layer sent that carry data.
    static std::vector<TcpSegment> data_of(const std::vector<Wire>& w) {
        std::vector<TcpSegment> r;
        for (auto& x : w)
            if (!x.segment().payload.empty()) r.push_back(x.segment());
        return r;
    }
};

}  // namespace tcp_test
