// Shared fixtures for the lib/net tests: a fake NetDevice that records frames, a fake NetEnv
// clock, and builders for crafted frames (Ethernet, ARP, IPv4, UDP, ICMP).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "lib/net/bytes.h"
#include "lib/net/stack.h"

namespace net_test {

using namespace lib::net;
using Bytes = std::vector<uint8_t>;

inline constexpr MacAddress kOurMac{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};
inline constexpr MacAddress kPeerMac{{0x52, 0x55, 0x0a, 0x00, 0x02, 0x02}};
inline constexpr Ipv4Address kOurIp = Ipv4Address::from(10, 0, 2, 15);
inline constexpr Ipv4Address kPeerIp = Ipv4Address::from(10, 0, 2, 2);
inline constexpr Ipv4Address kFarIp = Ipv4Address::from(93, 184, 216, 34);
inline constexpr uint64_t kSecond = 1'000'000'000;

struct SentFrame {
    Bytes bytes;
    TxMeta meta;
};

class FakeDevice final : public NetDevice {
public:
    bool transmit(std::span<const uint8_t> frame, const TxMeta& meta) override {
        if (full) return false;
        frames.push_back({Bytes(frame.begin(), frame.end()), meta});
        return true;
    }
    MacAddress mac() const override { return kOurMac; }
    uint16_t mtu() const override { return device_mtu; }
    bool checksum_offload() const override { return offload; }

    std::vector<SentFrame> frames;
    uint16_t device_mtu = 1500;
    bool offload = false;
    bool full = false;
};

class FakeEnv final : public NetEnv {
public:
    uint64_t now_ns() override { return now; }
    uint64_t random_u64() override {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return state >> 11;
    }
    uint64_t now = 1000 * kSecond;
    uint64_t state = 42;
};

inline uint16_t be16(const Bytes& b, size_t at) { return load_be16(&b[at]); }
inline uint32_t be32(const Bytes& b, size_t at) { return load_be32(&b[at]); }

inline Bytes ethernet(MacAddress dst, MacAddress src, uint16_t type, const Bytes& payload) {
    Bytes f(14);
    for (int i = 0; i < 6; ++i) f[i] = dst.bytes[i], f[6 + i] = src.bytes[i];
    store_be16(&f[12], type);
    f.insert(f.end(), payload.begin(), payload.end());
    return f;
}

inline Bytes arp(uint16_t op, MacAddress sender_mac, Ipv4Address sender, MacAddress target_mac,
                 Ipv4Address target) {
    Bytes p(28);
    store_be16(&p[0], 1);
    store_be16(&p[2], 0x0800);
    p[4] = 6, p[5] = 4;
    store_be16(&p[6], op);
    for (int i = 0; i < 6; ++i) p[8 + i] = sender_mac.bytes[i], p[18 + i] = target_mac.bytes[i];
    store_be32(&p[14], sender.value);
    store_be32(&p[24], target.value);
    return p;
}

struct IpFields {
    Ipv4Address source = kPeerIp, destination = kOurIp;
    uint8_t protocol = 17, ttl = 64;
    uint16_t id = 0x1234;
    uint16_t flags_offset = 0;  // MF 0x2000 | offset/8
};

inline Bytes ipv4(const IpFields& f, const Bytes& payload) {
    Bytes p(20);
    p[0] = 0x45;
    store_be16(&p[2], static_cast<uint16_t>(20 + payload.size()));
    store_be16(&p[4], f.id);
    store_be16(&p[6], f.flags_offset);
    p[8] = f.ttl;
    p[9] = f.protocol;
    store_be32(&p[12], f.source.value);
    store_be32(&p[16], f.destination.value);
    store_be16(&p[10], checksum_finish(checksum_add(0, p)));
    p.insert(p.end(), payload.begin(), payload.end());
    return p;
}

inline Bytes udp(Ipv4Address src, Ipv4Address dst, uint16_t sport, uint16_t dport,
                 const Bytes& data, bool checksum = true) {
    Bytes u(8);
    store_be16(&u[0], sport);
    store_be16(&u[2], dport);
    store_be16(&u[4], static_cast<uint16_t>(8 + data.size()));
    u.insert(u.end(), data.begin(), data.end());
    if (checksum) {
        uint32_t sum = pseudo_header_sum(src.value, dst.value, 17, static_cast<uint16_t>(u.size()));
        uint16_t c = checksum_finish(checksum_add(sum, u));
        store_be16(&u[6], c ? c : 0xffff);
    }
    return u;
}

inline Bytes icmp(uint8_t type, uint8_t code, uint32_t rest, const Bytes& data) {
    Bytes m(8);
    m[0] = type, m[1] = code;
    store_be32(&m[4], rest);
    m.insert(m.end(), data.begin(), data.end());
    store_be16(&m[2], checksum_finish(checksum_add(0, m)));
    return m;
}

inline Bytes frame_to_us(const Bytes& ip) { return ethernet(kOurMac, kPeerMac, 0x0800, ip); }

// The IPv4 packet inside a recorded frame.
inline Bytes ip_of(const SentFrame& f) { return Bytes(f.bytes.begin() + 14, f.bytes.end()); }

inline bool checksum_ok(std::span<const uint8_t> bytes, uint32_t start = 0) {
    return checksum_fold(checksum_add(start, bytes)) == 0xffff;
}

// A stack with eth0 configured as 10.0.2.15/24 via 10.0.2.2 and the gateway's MAC learned.
struct Net {
    FakeEnv env;
    FakeDevice device;
    Stack stack{env};
    int eth = -1;

    explicit Net(bool configure = true, bool learn = true) {
        eth = stack.add_interface(device).value();
        if (!configure) return;
        InterfaceConfig config;
        config.address = kOurIp;
        config.prefix_length = 24;
        config.gateway = kPeerIp;
        (void)stack.configure(eth, config);
        if (learn) {
            stack.receive(eth,
                          ethernet(kOurMac, kPeerMac, 0x0806,
                                   arp(1, kPeerMac, kPeerIp, MacAddress{}, kOurIp)),
                          {});
        }
        device.frames.clear();
    }
    void receive(const Bytes& frame, bool verified = false) {
        stack.receive(eth, frame, RxMeta{verified});
    }
};

}  // namespace net_test
