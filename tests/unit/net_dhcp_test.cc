// The DHCP client through Stack against a scripted server: the full exchange, NAK, renewal
// (unicast), rebinding (broadcast), lease expiry and retransmission backoff.
#include <gtest/gtest.h>

#include "lib/net/dhcp_message.h"
#include "tests/unit/net_test_util.h"

using namespace net_test;

namespace {

constexpr Ipv4Address kServer = Ipv4Address::from(10, 0, 2, 2);
constexpr Ipv4Address kDns = Ipv4Address::from(10, 0, 2, 3);

// What the client sent in a frame: the DHCP message, or nullopt when the frame is not one.
struct Sent {
    DhcpType type = DhcpType::None;
    uint32_t xid = 0;
    Ipv4Address ip_destination, ciaddr, requested, server_id;
    bool broadcast_mac = false;
    uint16_t flags = 0;
};

std::optional<Sent> decode(const SentFrame& f) {
    const Bytes& b = f.bytes;
    if (b.size() < 14 + 28 + 240 || be16(b, 12) != 0x0800 || b[23] != 17) return std::nullopt;
    if (be16(b, 36) != 67) return std::nullopt;
    std::span<const uint8_t> m = std::span(b).subspan(42);
    Sent s;
    s.xid = load_be32(&m[4]);
    s.flags = load_be16(&m[10]);
    s.ciaddr = Ipv4Address{load_be32(&m[12])};
    s.ip_destination = Ipv4Address{be32(b, 30)};
    s.broadcast_mac = std::equal(b.begin(), b.begin() + 6, kBroadcastMac.bytes.begin());
    EXPECT_TRUE(checksum_ok(
        std::span(b).subspan(34),
        pseudo_header_sum(be32(b, 26), be32(b, 30), 17, static_cast<uint16_t>(b.size() - 34))));
    for (size_t i = 240; i + 1 < m.size() && m[i] != 255;) {
        if (m[i] == 0) {
            ++i;
            continue;
        }
        uint8_t code = m[i], len = m[i + 1];
        if (code == 53) s.type = static_cast<DhcpType>(m[i + 2]);
        if (code == 50) s.requested = Ipv4Address{load_be32(&m[i + 2])};
        if (code == 54) s.server_id = Ipv4Address{load_be32(&m[i + 2])};
        i += 2 + len;
    }
    return s;
}

// A reply from the scripted server (libslirp's answers: 10.0.2.15/24, gw .2, dns .3).
Bytes reply(DhcpType type, uint32_t xid, uint32_t lease_s = 86400, bool unicast = false) {
    Bytes m(240, 0);
    m[0] = 2, m[1] = 1, m[2] = 6;
    store_be32(&m[4], xid);
    if (type != DhcpType::Nak) store_be32(&m[16], kOurIp.value);
    store_be32(&m[20], kServer.value);
    for (int i = 0; i < 6; ++i) m[28 + i] = kOurMac.bytes[i];
    store_be32(&m[236], 0x63825363);
    auto opt = [&](uint8_t code, std::initializer_list<uint8_t> v) {
        m.push_back(code);
        m.push_back(static_cast<uint8_t>(v.size()));
        m.insert(m.end(), v);
    };
    opt(53, {static_cast<uint8_t>(type)});
    opt(54, {10, 0, 2, 2});
    if (type != DhcpType::Nak) {
        opt(1, {255, 255, 255, 0});
        opt(3, {10, 0, 2, 2});
        opt(6, {10, 0, 2, 3});
        opt(51, {uint8_t(lease_s >> 24), uint8_t(lease_s >> 16), uint8_t(lease_s >> 8),
                 uint8_t(lease_s)});
        opt(26, {0x05, 0x78});  // MTU 1400
    }
    m.push_back(255);
    IpFields f;
    f.source = kServer;
    f.destination = unicast ? kOurIp : kBroadcastAddress;
    Bytes u = udp(kServer, f.destination, 67, 68, m);
    return ethernet(unicast ? kOurMac : kBroadcastMac, kPeerMac, 0x0800, ipv4(f, u));
}

std::optional<Sent> last_dhcp(FakeDevice& d) {
    for (auto it = d.frames.rbegin(); it != d.frames.rend(); ++it)
        if (auto s = decode(*it)) return s;
    return std::nullopt;
}

struct DhcpNet : Net {
    DhcpNet() : Net(false) {}
    uint32_t bind(uint32_t lease_s = 86400) {
        EXPECT_FALSE(stack.start_dhcp(eth).is_error());
        auto discover = last_dhcp(device);
        EXPECT_TRUE(discover && discover->type == DhcpType::Discover);
        receive(reply(DhcpType::Offer, discover->xid, lease_s));
        auto request = last_dhcp(device);
        EXPECT_TRUE(request && request->type == DhcpType::Request);
        receive(reply(DhcpType::Ack, request->xid, lease_s));
        device.frames.clear();
        return request->xid;
    }
};

TEST(NetDhcp, FullExchangeConfiguresTheInterface) {
    DhcpNet net;
    net.stack.set_hostname(std::string_view("phoenix"));
    ASSERT_FALSE(net.stack.start_dhcp(net.eth).is_error());
    auto discover = last_dhcp(net.device);
    ASSERT_TRUE(discover);
    EXPECT_EQ(discover->type, DhcpType::Discover);
    EXPECT_TRUE(discover->broadcast_mac);
    EXPECT_EQ(discover->ip_destination, kBroadcastAddress);
    EXPECT_EQ(discover->flags, kDhcpFlagBroadcast);
    net.receive(reply(DhcpType::Offer, discover->xid ^ 1));  // wrong xid: ignored
    EXPECT_EQ(last_dhcp(net.device)->type, DhcpType::Discover);
    net.receive(reply(DhcpType::Offer, discover->xid));
    auto request = last_dhcp(net.device);
    ASSERT_TRUE(request);
    EXPECT_EQ(request->type, DhcpType::Request);
    EXPECT_EQ(request->requested, kOurIp);
    EXPECT_EQ(request->server_id, kServer);
    EXPECT_FALSE(net.stack.configured(net.eth));
    net.device.frames.clear();
    net.receive(reply(DhcpType::Ack, request->xid));
    ASSERT_TRUE(net.stack.configured(net.eth));
    InterfaceInfo info = net.stack.interface_info(net.eth);
    EXPECT_EQ(info.config.address, kOurIp);
    EXPECT_EQ(info.config.prefix_length, 24);
    EXPECT_EQ(info.config.gateway, kServer);
    EXPECT_EQ(info.mtu, 1400);
    EXPECT_EQ(net.stack.name_server(0), kDns);
    EXPECT_EQ(net.stack.name_server(1), kAnyAddress);
    // Bound: a gratuitous ARP announced the address.
    ASSERT_FALSE(net.device.frames.empty());
    EXPECT_EQ(be16(net.device.frames[0].bytes, 12), 0x0806);
    EXPECT_EQ(be32(net.device.frames[0].bytes, 38), kOurIp.value);
}

TEST(NetDhcp, RetransmitsWithBackoff) {
    DhcpNet net;
    ASSERT_FALSE(net.stack.start_dhcp(net.eth).is_error());
    uint64_t start = net.env.now;
    uint64_t expected[] = {4, 8, 16, 32, 64};
    uint64_t previous = start;
    for (uint64_t base : expected) {
        uint64_t deadline = net.stack.next_deadline();
        EXPECT_GE(deadline - previous, (base - 1) * kSecond);
        EXPECT_LE(deadline - previous, (base + 1) * kSecond);
        net.env.now = deadline;
        net.stack.run_timers(deadline);
        previous = deadline;
    }
    size_t discovers = 0;
    for (auto& f : net.device.frames)
        if (auto s = decode(f)) discovers += s->type == DhcpType::Discover;
    EXPECT_EQ(discovers, 6u);  // five backed off, then a fresh start
}

TEST(NetDhcp, NakRestartsDiscovery) {
    DhcpNet net;
    ASSERT_FALSE(net.stack.start_dhcp(net.eth).is_error());
    auto discover = last_dhcp(net.device);
    net.receive(reply(DhcpType::Offer, discover->xid));
    auto request = last_dhcp(net.device);
    net.receive(reply(DhcpType::Nak, request->xid));
    EXPECT_FALSE(net.stack.configured(net.eth));
    auto again = last_dhcp(net.device);
    EXPECT_EQ(again->type, DhcpType::Discover);
    EXPECT_NE(again->xid, request->xid);
}

TEST(NetDhcp, RenewsUnicastAtT1) {
    DhcpNet net;
    uint64_t bound_at = net.env.now;
    net.bind(1000);
    EXPECT_EQ(net.stack.next_deadline(), bound_at + 500 * kSecond);
    net.env.now = bound_at + 500 * kSecond;
    net.stack.run_timers(net.env.now);
    // The server's MAC was never learned: resolve it, which releases the held REQUEST.
    EXPECT_FALSE(last_dhcp(net.device));
    net.receive(ethernet(kOurMac, kPeerMac, 0x0806, arp(2, kPeerMac, kServer, kOurMac, kOurIp)));
    auto renew = last_dhcp(net.device);
    ASSERT_TRUE(renew);
    EXPECT_EQ(renew->type, DhcpType::Request);
    EXPECT_EQ(renew->ip_destination, kServer);
    EXPECT_FALSE(renew->broadcast_mac);
    EXPECT_EQ(renew->ciaddr, kOurIp);
    net.receive(reply(DhcpType::Ack, renew->xid, 1000, true));
    EXPECT_TRUE(net.stack.configured(net.eth));
    EXPECT_EQ(net.stack.next_deadline(), net.env.now + 500 * kSecond);
}

TEST(NetDhcp, RebindsBroadcastAtT2ThenLeaseExpires) {
    DhcpNet net;
    uint64_t bound_at = net.env.now;
    net.bind(1000);
    net.env.now = bound_at + 500 * kSecond;
    net.stack.run_timers(net.env.now);  // renewing: no answer
    net.env.now = bound_at + 875 * kSecond;
    while (net.stack.next_deadline() < net.env.now) net.stack.run_timers(net.stack.next_deadline());
    net.stack.run_timers(net.env.now);
    auto rebind = last_dhcp(net.device);
    ASSERT_TRUE(rebind);
    EXPECT_EQ(rebind->type, DhcpType::Request);
    EXPECT_EQ(rebind->ip_destination, kBroadcastAddress);
    EXPECT_TRUE(rebind->broadcast_mac);
    EXPECT_EQ(rebind->ciaddr, kOurIp);
    EXPECT_TRUE(net.stack.configured(net.eth));
    // Nobody answers: at the lease's end the address goes and discovery starts over.
    while (net.stack.next_deadline() <= bound_at + 1000 * kSecond) {
        net.env.now = net.stack.next_deadline();
        net.stack.run_timers(net.env.now);
    }
    EXPECT_FALSE(net.stack.configured(net.eth));
    EXPECT_EQ(last_dhcp(net.device)->type, DhcpType::Discover);
}

TEST(NetDhcp, MalformedRepliesIgnored) {
    DhcpMessage m;
    Bytes junk(300, 0);
    EXPECT_FALSE(parse_dhcp(junk, m));
    Bytes good = reply(DhcpType::Offer, 5);
    std::span<const uint8_t> message = std::span(good).subspan(42);
    ASSERT_TRUE(parse_dhcp(message, m));
    EXPECT_EQ(m.mtu, 1400);
    Bytes cut(message.begin(), message.end());
    cut.back() = 12;  // instead of END: a hostname whose length runs past the end
    cut.push_back(200);
    cut.push_back('x');
    EXPECT_FALSE(parse_dhcp(cut, m));
}

}  // namespace
