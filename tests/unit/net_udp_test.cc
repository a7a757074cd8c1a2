// UDP sockets (lib/net/udp.cc) over a Stack: send, receive, truncation, peek, queue limits,
// port unreachable, connected filtering, broadcast permission and loopback.
#include <gtest/gtest.h>

#include "lib/net/udp.h"
#include "tests/unit/net_test_util.h"

using namespace net_test;

namespace {

struct UdpNet : Net {
    UdpLayer udp{stack, env};
    UdpNet() { stack.register_udp(udp); }
    UdpSocket* socket() { return udp.create().value(); }
    void deliver(uint16_t sport, uint16_t dport, const Bytes& data, bool checksum = true,
                 Ipv4Address src = kPeerIp) {
        IpFields f;
        f.source = src;
        receive(frame_to_us(ipv4(f, udp_datagram(src, sport, dport, data, checksum))));
    }
    static Bytes udp_datagram(Ipv4Address src, uint16_t sport, uint16_t dport, const Bytes& data,
                              bool checksum) {
        return net_test::udp(src, kOurIp, sport, dport, data, checksum);
    }
};

struct Observer final : SocketObserver {
    void socket_changed(uint32_t events) override { seen |= events; }
    uint32_t seen = 0;
};

TEST(NetUdp, SendToBuildsAValidDatagram) {
    UdpNet net;
    UdpSocket* s = net.socket();
    ASSERT_FALSE(s->bind({kAnyAddress, 5000}).is_error());
    Bytes data{'h', 'i', '!'};
    auto r = s->send_to(data, Endpoint{kFarIp, 53});
    ASSERT_FALSE(r.is_error());
    EXPECT_EQ(r.value(), 3u);
    ASSERT_EQ(net.device.frames.size(), 1u);
    Bytes ip = ip_of(net.device.frames[0]);
    EXPECT_EQ(ip[9], 17);
    EXPECT_EQ(be16(ip, 20), 5000);
    EXPECT_EQ(be16(ip, 22), 53);
    EXPECT_EQ(be16(ip, 24), 11);
    EXPECT_TRUE(checksum_ok(std::span(ip).subspan(20),
                            pseudo_header_sum(kOurIp.value, kFarIp.value, 17, 11)));
}

TEST(NetUdp, EphemeralPortsAreRandomInLinuxRange) {
    UdpNet net;
    for (int i = 0; i < 20; ++i) {
        UdpSocket* s = net.socket();
        ASSERT_FALSE(s->bind({kAnyAddress, 0}).is_error());
        EXPECT_GE(s->local().port, 32768);
        EXPECT_LE(s->local().port, 60999);
    }
    UdpSocket* a = net.socket();
    UdpSocket* b = net.socket();
    ASSERT_FALSE(a->bind({kAnyAddress, 7000}).is_error());
    EXPECT_EQ(b->bind({kAnyAddress, 7000}).error(), lib::Errno::AddrInUse);
    EXPECT_EQ(a->bind({kAnyAddress, 7001}).error(), lib::Errno::Inval);
    EXPECT_EQ(b->bind({Ipv4Address::from(8, 8, 8, 8), 1}).error(), lib::Errno::AddrNotAvail);
    UdpSocket* c = net.socket();
    UdpSocket* d = net.socket();
    c->set_reuse(true, false);
    d->set_reuse(true, false);
    ASSERT_FALSE(c->bind({kAnyAddress, 7100}).is_error());
    EXPECT_FALSE(d->bind({kAnyAddress, 7100}).is_error());
}

TEST(NetUdp, ReceiveTruncatesAndPeeks) {
    UdpNet net;
    UdpSocket* s = net.socket();
    Observer observer;
    s->set_observer(&observer);
    ASSERT_FALSE(s->bind({kAnyAddress, 9000}).is_error());
    EXPECT_EQ(s->receive_from(std::span<uint8_t>()).error(), lib::Errno::Again);
    net.deliver(1234, 9000, {1, 2, 3, 4, 5, 6});
    EXPECT_TRUE(observer.seen & events::kIn);
    EXPECT_TRUE(s->poll_events() & events::kIn);
    EXPECT_EQ(s->next_datagram_size(), 6u);
    uint8_t buffer[4];
    auto peeked = s->receive_from(buffer, true).value();
    EXPECT_EQ(peeked.copied, 4u);
    EXPECT_EQ(peeked.length, 6u);
    auto got = s->receive_from(buffer).value();
    EXPECT_EQ(got.copied, 4u);
    EXPECT_EQ(got.length, 6u);  // MSG_TRUNC: the rest is gone
    EXPECT_EQ(got.from, (Endpoint{kPeerIp, 1234}));
    EXPECT_EQ(buffer[3], 4);
    EXPECT_EQ(s->receive_from(buffer).error(), lib::Errno::Again);
    EXPECT_FALSE(s->poll_events() & events::kIn);
}

TEST(NetUdp, ChecksumZeroAcceptedBadChecksumDropped) {
    UdpNet net;
    UdpSocket* s = net.socket();
    ASSERT_FALSE(s->bind({kAnyAddress, 9000}).is_error());
    net.deliver(1, 9000, {7}, false);
    IpFields f;
    Bytes u = UdpNet::udp_datagram(kPeerIp, 1, 9000, {8}, true);
    u[8] ^= 1;
    net.receive(frame_to_us(ipv4(f, u)));
    net.receive(frame_to_us(ipv4(f, u)), true);  // the device vouched for it
    uint8_t b[4];
    EXPECT_EQ(s->receive_from(b).value().length, 1u);
    EXPECT_EQ(b[0], 7);
    EXPECT_EQ(s->receive_from(b).value().length, 1u);
    EXPECT_EQ(s->receive_from(b).error(), lib::Errno::Again);
}

TEST(NetUdp, ReceiveQueueIsBoundedInBytes) {
    UdpNet net;
    UdpSocket* s = net.socket();
    s->set_receive_buffer(4096);
    ASSERT_FALSE(s->bind({kAnyAddress, 9000}).is_error());
    for (int i = 0; i < 100; ++i) net.deliver(1, 9000, Bytes(1000, uint8_t(i)));
    int count = 0;
    uint8_t b[2000];
    while (!s->receive_from(b).is_error()) ++count;
    EXPECT_GE(count, 1);
    EXPECT_LE(count, 4);
}

TEST(NetUdp, PortUnreachableForUnboundPorts) {
    UdpNet net;
    net.deliver(4444, 9999, {1, 2});
    ASSERT_EQ(net.device.frames.size(), 1u);
    Bytes ip = ip_of(net.device.frames[0]);
    EXPECT_EQ(ip[9], 1);
    EXPECT_EQ(ip[20], 3);
    EXPECT_EQ(ip[21], 3);
    EXPECT_EQ(be32(ip, 28 + 12), kPeerIp.value);  // the quoted header
    EXPECT_EQ(be16(ip, 28 + 20 + 2), 9999);
    // Never for a broadcast.
    net.device.frames.clear();
    IpFields f;
    f.destination = kBroadcastAddress;
    net.receive(ethernet(kBroadcastMac, kPeerMac, 0x0800,
                         ipv4(f, net_test::udp(kPeerIp, kBroadcastAddress, 1, 9999, {1}))));
    EXPECT_TRUE(net.device.frames.empty());
}

TEST(NetUdp, ConnectedSocketFiltersAndHearsPortUnreachable) {
    UdpNet net;
    UdpSocket* s = net.socket();
    ASSERT_FALSE(s->bind({kAnyAddress, 9000}).is_error());
    ASSERT_FALSE(s->connect({kPeerIp, 53}).is_error());
    EXPECT_EQ(s->local().address, kOurIp);
    net.deliver(54, 9000, {1});  // wrong port: filtered
    net.deliver(53, 9000, {2});
    uint8_t b[4];
    auto r = s->receive_from(b);
    ASSERT_FALSE(r.is_error());
    EXPECT_EQ(b[0], 2);
    EXPECT_EQ(s->receive_from(b).error(), lib::Errno::Again);
    // ICMP port unreachable quoting our datagram: ConnRefused, once.
    IpFields orig;
    orig.source = kOurIp;
    orig.destination = kPeerIp;
    Bytes quoted = ipv4(orig, net_test::udp(kOurIp, kPeerIp, 9000, 53, {}));
    IpFields f;
    f.protocol = 1;
    Observer observer;
    s->set_observer(&observer);
    net.receive(frame_to_us(ipv4(f, icmp(3, 3, 0, quoted))));
    EXPECT_TRUE(observer.seen & events::kErr);
    EXPECT_TRUE(s->poll_events() & events::kErr);
    EXPECT_EQ(s->send_to(Bytes{1}, std::nullopt).error(), lib::Errno::ConnRefused);
    EXPECT_FALSE(s->send_to(Bytes{1}, std::nullopt).is_error());
    // Disconnect: anything is accepted again.
    ASSERT_FALSE(s->connect({kAnyAddress, 0}).is_error());
    EXPECT_FALSE(s->remote().has_value());
    net.deliver(54, 9000, {3});
    EXPECT_FALSE(s->receive_from(b).is_error());
}

TEST(NetUdp, SendErrorsAndBroadcastPermission) {
    UdpNet net;
    UdpSocket* s = net.socket();
    EXPECT_EQ(s->send_to(Bytes{1}, std::nullopt).error(), lib::Errno::DestAddrReq);
    EXPECT_EQ(s->send_to(Bytes(65508), Endpoint{kFarIp, 1}).error(), lib::Errno::MsgSize);
    EXPECT_EQ(s->send_to(Bytes{1}, Endpoint{kBroadcastAddress, 67}).error(), lib::Errno::Access);
    s->set_broadcast(true);
    ASSERT_FALSE(s->send_to(Bytes{1}, Endpoint{kBroadcastAddress, 67}).is_error());
    ASSERT_EQ(net.device.frames.size(), 1u);
    EXPECT_TRUE(std::equal(net.device.frames[0].bytes.begin(),
                           net.device.frames[0].bytes.begin() + 6, kBroadcastMac.bytes.begin()));
    // A large datagram is fragmented (UDP does not set DF).
    net.device.frames.clear();
    ASSERT_FALSE(s->send_to(Bytes(4000, 1), Endpoint{kFarIp, 9}).is_error());
    EXPECT_EQ(net.device.frames.size(), 3u);
    Net bare(false);
    UdpLayer udp(bare.stack, bare.env);
    UdpSocket* t = udp.create().value();
    EXPECT_EQ(t->send_to(Bytes{1}, Endpoint{kFarIp, 1}).error(), lib::Errno::NetUnreach);
}

TEST(NetUdp, LoopbackRoundTrip) {
    UdpNet net;
    UdpSocket* server = net.socket();
    UdpSocket* client = net.socket();
    ASSERT_FALSE(server->bind({kLoopbackAddress, 7777}).is_error());
    ASSERT_FALSE(
        client->send_to(Bytes{'p', 'i', 'n', 'g'}, Endpoint{kLoopbackAddress, 7777}).is_error());
    uint8_t b[16];
    EXPECT_EQ(server->receive_from(b).error(), lib::Errno::Again);
    net.stack.flush_loopback();
    auto got = server->receive_from(b).value();
    EXPECT_EQ(got.length, 4u);
    EXPECT_EQ(got.from.address, kLoopbackAddress);
    EXPECT_EQ(got.from.port, client->local().port);
    ASSERT_FALSE(server->send_to(Bytes{'o'}, got.from).is_error());
    net.stack.flush_loopback();
    EXPECT_EQ(client->receive_from(b).value().length, 1u);
    // To our own address, too; and an unbound loopback port gets ConnRefused when connected.
    ASSERT_FALSE(client->connect({kOurIp, 7778}).is_error());
    ASSERT_FALSE(client->send_to(Bytes{1}, std::nullopt).is_error());
    net.stack.flush_loopback();  // delivers; port unreachable queued
    net.stack.flush_loopback();
    EXPECT_EQ(client->take_error(), lib::Errno::ConnRefused);
    server->close();
    client->close();
}

}  // namespace
