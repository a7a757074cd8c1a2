// Test doubles for TCP: a fake clock and entropy source, a fake IPv4 that records what the
// layer sends (flattened, checksum finished as the layer below would), a segment builder for
// playing a hand-written peer, and a link joining two layers.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <deque>
#include <vector>

#include "lib/net/bytes.h"
#include "lib/net/tcp.h"
#include "lib/net/tcp_options.h"

namespace tcp_test {

using namespace lib::net;
using lib::Errno;

inline constexpr uint64_t kMs = 1000000;
inline const Ipv4Address kHostA = Ipv4Address::from(10, 0, 0, 1);
inline const Ipv4Address kHostB = Ipv4Address::from(10, 0, 0, 2);

struct FakeEnv final : NetEnv {
    uint64_t now = 1000 * kMs;
    uint64_t state = 0x1234;
    uint64_t now_ns() override { return now; }
    uint64_t random_u64() override {
        uint64_t z = (state += 0x9e3779b97f4a7c15ull);
        z = (z ^ z >> 30) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ z >> 27) * 0x94d049bb133111ebull;
        return z ^ z >> 31;
    }
};

struct Wire {
    Ipv4Address source, destination;
    std::vector<uint8_t> bytes;
    TcpSegment segment() const {
        TcpSegment s;
        EXPECT_TRUE(parse_segment(bytes, s));
        return s;
    }
};

struct FakeIp final : IpOutput {
    Ipv4Address address;
    uint16_t mtu = 1500;
    std::vector<Wire> sent;
    explicit FakeIp(Ipv4Address a) : address(a) {}
    lib::ErrorOr send(const OutgoingPacket& p) override {
        Wire w{p.source, p.destination, {}};
        w.bytes.assign(p.header.begin(), p.header.end());
        for (auto& part : p.payload) w.bytes.insert(w.bytes.end(), part.begin(), part.end());
        EXPECT_EQ(p.protocol, kProtocolTcp);
        EXPECT_EQ(p.checksum_offset, 16);
        // The field holds the pseudo-header sum: the sum over everything finishes it.
        uint16_t sum = checksum_finish(checksum_add(0, w.bytes));
        store_be16(&w.bytes[16], sum);
        sent.push_back(std::move(w));
        return {};
    }
    uint16_t mtu_to(Ipv4Address) override { return mtu; }
    Ipv4Address source_for(Ipv4Address) override { return address; }
    bool is_local(Ipv4Address a) override { return a == address || a.is_any(); }
    std::vector<Wire> take() { return std::exchange(sent, {}); }
};

struct Observer final : SocketObserver {
    uint32_t seen = 0;
    int calls = 0;
    void socket_changed(uint32_t events) override { seen |= events, ++calls; }
};

// A segment a hand-written peer sends.
struct Seg {
    uint16_t sport = 5000, dport = 80;
    uint32_t seq = 0, ack = 0;
    uint8_t flags = 0;
    uint16_t window = 65535;
    std::vector<uint8_t> options;
    std::vector<uint8_t> data;
};

inline std::vector<uint8_t> build(const Seg& s, Ipv4Address from, Ipv4Address to) {
    std::vector<uint8_t> opts = s.options;
    while (opts.size() % 4) opts.push_back(0);
    std::vector<uint8_t> b(20 + opts.size());
    store_be16(&b[0], s.sport);
    store_be16(&b[2], s.dport);
    store_be32(&b[4], s.seq);
    store_be32(&b[8], s.ack);
    b[12] = static_cast<uint8_t>((20 + opts.size()) / 4 << 4);
    b[13] = s.flags;
    store_be16(&b[14], s.window);
    if (!opts.empty()) std::memcpy(&b[20], opts.data(), opts.size());
    b.insert(b.end(), s.data.begin(), s.data.end());
    uint32_t sum = pseudo_header_sum(from.value, to.value, kProtocolTcp, uint16_t(b.size()));
    store_be16(&b[16], checksum_finish(checksum_add(sum, b)));
    return b;
}

inline void deliver(TcpLayer& layer, const std::vector<uint8_t>& bytes, Ipv4Address from,
                    Ipv4Address to) {
    IncomingPacket p;
    p.source = from;
    p.destination = to;
    p.protocol = kProtocolTcp;
    p.payload = bytes;
    layer.input(p);
}

inline std::vector<uint8_t> bytes_of(size_t n, uint32_t seed = 1) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i)
        v[i] = static_cast<uint8_t>((i * 131 + seed * 7 + (i >> 8)) & 0xff);
    return v;
}

inline size_t count_connections(const TcpLayer& layer) {
    size_t n = 0;
    layer.for_each_connection(
        [](const TcpLayer::ConnectionInfo&, void* c) { ++*static_cast<size_t*>(c); }, &n);
    return n;
}

// Two layers joined by a link that can delay, drop, duplicate and reorder (seeded).
struct Link {
    FakeEnv env;
    FakeIp ip_a{kHostA}, ip_b{kHostB};
    TcpLayer a{ip_a, env}, b{ip_b, env};
    uint64_t delay = 5 * kMs;
    uint32_t drop_per_mille = 0, dup_per_mille = 0, reorder_per_mille = 0;
    uint64_t rng = 99;
    struct InFlight {
        uint64_t at;
        bool to_b;
        Wire wire;
    };
    std::deque<InFlight> queue;
    uint64_t delivered = 0;

    uint32_t roll() {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<uint32_t>(rng >> 33) % 1000;
    }
    void collect() {
        for (auto* side : {&ip_a, &ip_b}) {
            for (auto& w : side->take()) {
                bool to_b = side == &ip_a;
                if (roll() < drop_per_mille) continue;
                uint64_t at = env.now + delay;
                if (roll() < reorder_per_mille) at += delay * (1 + roll() % 4);
                if (roll() < dup_per_mille) queue.push_back({at + delay, to_b, w});
                queue.push_back({at, to_b, std::move(w)});
            }
        }
    }
    // Delivers everything due by now (and what that provokes), then runs the timers.
    void pump() {
        for (int round = 0; round < 1000; ++round) {
            collect();
            bool any = false;
            for (size_t i = 0; i < queue.size();) {
                if (queue[i].at <= env.now) {
                    InFlight f = std::move(queue[i]);
                    queue.erase(queue.begin() + static_cast<long>(i));
                    deliver(f.to_b ? b : a, f.wire.bytes, f.wire.source, f.wire.destination);
                    ++delivered;
                    any = true;
                } else {
                    ++i;
                }
            }
            a.run_timers(env.now);
            b.run_timers(env.now);
            collect();
            if (!any) break;
        }
    }
    // Advances to the next event (a packet or a timer), at most `limit` ahead.
    void step(uint64_t limit = 1000 * kMs) {
        collect();
        uint64_t next = env.now + limit;
        for (auto& f : queue) next = std::min(next, f.at);
        next = std::min({next, a.next_deadline(), b.next_deadline()});
        if (next > env.now) env.now = next;
        pump();
    }
    void run_for(uint64_t duration) {
        uint64_t end = env.now + duration;
        while (env.now < end) step(end - env.now);
    }
};

}  // namespace tcp_test
