// ARP (lib/net/arp.cc through Stack): requests, replies, the cache, timeouts, retries,
// eviction and gratuitous announcements.
#include <gtest/gtest.h>

#include "lib/net/arp.h"
#include "tests/unit/net_test_util.h"

using namespace net_test;

namespace {

OutgoingPacket udp_packet(Ipv4Address dst, Bytes& header, const Bytes& data) {
    header = Bytes(8);
    store_be16(&header[0], 1000);
    store_be16(&header[2], 2000);
    store_be16(&header[4], static_cast<uint16_t>(8 + data.size()));
    store_be16(&header[6],
               checksum_fold(pseudo_header_sum(kOurIp.value, dst.value, 17,
                                               static_cast<uint16_t>(8 + data.size()))));
    OutgoingPacket p;
    p.source = kOurIp;
    p.destination = dst;
    p.protocol = 17;
    p.header = header;
    p.payload[0] = data;
    p.checksum_offset = 6;
    return p;
}

bool is_arp_request_for(const SentFrame& f, Ipv4Address target) {
    return f.bytes.size() >= 42 && be16(f.bytes, 12) == 0x0806 && be16(f.bytes, 20) == 1 &&
           be32(f.bytes, 38) == target.value;
}

TEST(NetArp, AnswersRequestForOurAddressAndLearnsTheAsker) {
    Net net(true, false);
    net.receive(
        ethernet(kBroadcastMac, kPeerMac, 0x0806, arp(1, kPeerMac, kPeerIp, MacAddress{}, kOurIp)));
    ASSERT_EQ(net.device.frames.size(), 1u);
    const Bytes& reply = net.device.frames[0].bytes;
    EXPECT_EQ(be16(reply, 12), 0x0806);
    EXPECT_EQ(be16(reply, 20), 2);  // reply
    EXPECT_TRUE(std::equal(reply.begin(), reply.begin() + 6, kPeerMac.bytes.begin()));
    EXPECT_EQ(be32(reply, 28), kOurIp.value);
    EXPECT_EQ(be32(reply, 38), kPeerIp.value);
    // Learned: a packet to the peer goes straight out, no request.
    net.device.frames.clear();
    Bytes h, data{1, 2, 3};
    ASSERT_FALSE(net.stack.send(udp_packet(kPeerIp, h, data)).is_error());
    ASSERT_EQ(net.device.frames.size(), 1u);
    EXPECT_EQ(be16(net.device.frames[0].bytes, 12), 0x0800);
    EXPECT_TRUE(std::equal(net.device.frames[0].bytes.begin(),
                           net.device.frames[0].bytes.begin() + 6, kPeerMac.bytes.begin()));
}

TEST(NetArp, IgnoresRequestsForOthersAndDoesNotLearnStrangers) {
    Net net(true, false);
    Ipv4Address other = Ipv4Address::from(10, 0, 2, 99);
    net.receive(
        ethernet(kBroadcastMac, kPeerMac, 0x0806, arp(1, kPeerMac, kPeerIp, MacAddress{}, other)));
    EXPECT_TRUE(net.device.frames.empty());
    Bytes h, data{1};
    ASSERT_FALSE(net.stack.send(udp_packet(kPeerIp, h, data)).is_error());
    ASSERT_EQ(net.device.frames.size(), 1u);
    EXPECT_TRUE(is_arp_request_for(net.device.frames[0], kPeerIp));
}

TEST(NetArp, QueuesWhileResolvingThenSendsOnReply) {
    Net net(true, false);
    Bytes h, data{9, 8, 7};
    for (int i = 0; i < 3; ++i)
        ASSERT_FALSE(net.stack.send(udp_packet(kPeerIp, h, data)).is_error());
    ASSERT_EQ(net.device.frames.size(), 1u);  // one request, three packets held
    EXPECT_TRUE(is_arp_request_for(net.device.frames[0], kPeerIp));
    net.device.frames.clear();
    net.receive(ethernet(kOurMac, kPeerMac, 0x0806, arp(2, kPeerMac, kPeerIp, kOurMac, kOurIp)));
    ASSERT_EQ(net.device.frames.size(), 3u);
    for (auto& f : net.device.frames) {
        EXPECT_EQ(be16(f.bytes, 12), 0x0800);
        EXPECT_TRUE(std::equal(f.bytes.begin(), f.bytes.begin() + 6, kPeerMac.bytes.begin()));
    }
}

TEST(NetArp, PendingQueueIsBoundedPerEntry) {
    FakeEnv env;
    FakeDevice device;
    StackLimits limits;
    limits.arp_pending_per_entry = 2;
    Stack stack(env, limits);
    int eth = stack.add_interface(device).value();
    ASSERT_FALSE(stack.configure(eth, {kOurIp, 24, kPeerIp, {}}).is_error());
    device.frames.clear();
    Bytes h, data{1};
    for (int i = 0; i < 5; ++i) ASSERT_FALSE(stack.send(udp_packet(kPeerIp, h, data)).is_error());
    device.frames.clear();
    stack.receive(
        eth, ethernet(kOurMac, kPeerMac, 0x0806, arp(2, kPeerMac, kPeerIp, kOurMac, kOurIp)), {});
    EXPECT_EQ(device.frames.size(), 2u);
}

TEST(NetArp, RetriesThreeTimesThenFailsWithHostUnreach) {
    Net net(true, false);
    Bytes h, data{1};
    ASSERT_FALSE(net.stack.send(udp_packet(kPeerIp, h, data)).is_error());
    EXPECT_EQ(net.stack.next_deadline(), net.env.now + kSecond);
    for (int i = 0; i < 2; ++i) {
        net.env.now += kSecond;
        net.stack.run_timers(net.env.now);
    }
    ASSERT_EQ(net.device.frames.size(), 3u);
    for (auto& f : net.device.frames) EXPECT_TRUE(is_arp_request_for(f, kPeerIp));
    net.env.now += kSecond;
    net.stack.run_timers(net.env.now);
    EXPECT_EQ(net.device.frames.size(), 3u);  // no fourth request; the held packet dropped
    EXPECT_EQ(net.stack.next_deadline(), kNoDeadline);
    auto r = net.stack.send(udp_packet(kPeerIp, h, data));
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error(), lib::Errno::HostUnreach);
    // A late reply is still believed (the entry exists) and releases the hold-down.
    net.env.now += 30 * kSecond;
    net.device.frames.clear();
    EXPECT_FALSE(net.stack.send(udp_packet(kPeerIp, h, data)).is_error());
    EXPECT_EQ(net.device.frames.size(), 1u);
}

TEST(NetArp, ReachableEntriesAreRevalidatedAfterSixtySeconds) {
    Net net;
    Bytes h, data{1};
    net.env.now += 61 * kSecond;
    ASSERT_FALSE(net.stack.send(udp_packet(kPeerIp, h, data)).is_error());
    // A unicast poll to the known MAC, and the packet still goes out at once.
    ASSERT_EQ(net.device.frames.size(), 2u);
    EXPECT_TRUE(is_arp_request_for(net.device.frames[0], kPeerIp));
    EXPECT_TRUE(std::equal(net.device.frames[0].bytes.begin(),
                           net.device.frames[0].bytes.begin() + 6, kPeerMac.bytes.begin()));
    EXPECT_EQ(be16(net.device.frames[1].bytes, 12), 0x0800);
    // No answer to the probes: the neighbour is declared unreachable.
    for (int i = 0; i < 3; ++i) {
        net.env.now += kSecond;
        net.stack.run_timers(net.env.now);
    }
    auto r = net.stack.send(udp_packet(kPeerIp, h, data));
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error(), lib::Errno::HostUnreach);
}

TEST(NetArp, CacheEvictsLeastRecentlyUsed) {
    FakeDevice device;
    Link link{&device, kOurMac, {}};
    ArpCache cache(link, 2, 4);
    ASSERT_TRUE(cache.valid());
    auto learn = [&](uint8_t last, uint64_t now) {
        Ipv4Address ip = Ipv4Address::from(10, 0, 2, last);
        MacAddress mac{{2, 0, 0, 0, 0, last}};
        cache.input(arp(1, mac, ip, MacAddress{}, kOurIp), kOurIp, now);
    };
    learn(1, 10);
    learn(2, 20);
    Bytes frame(60);
    ASSERT_FALSE(cache.output(Ipv4Address::from(10, 0, 2, 1), kOurIp, frame, {}, 30).is_error());
    learn(3, 40);  // evicts .2, the least recently used
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_TRUE(cache.lookup(Ipv4Address::from(10, 0, 2, 1)).has_value());
    EXPECT_FALSE(cache.lookup(Ipv4Address::from(10, 0, 2, 2)).has_value());
    EXPECT_TRUE(cache.lookup(Ipv4Address::from(10, 0, 2, 3)).has_value());
}

TEST(NetArp, GratuitousArpOnConfigure) {
    Net net(false);
    ASSERT_FALSE(net.stack.configure(net.eth, {kOurIp, 24, kPeerIp, {}}).is_error());
    ASSERT_EQ(net.device.frames.size(), 1u);
    const Bytes& f = net.device.frames[0].bytes;
    EXPECT_TRUE(std::equal(f.begin(), f.begin() + 6, kBroadcastMac.bytes.begin()));
    EXPECT_EQ(be16(f, 20), 1);
    EXPECT_EQ(be32(f, 28), kOurIp.value);  // sender = target = our address
    EXPECT_EQ(be32(f, 38), kOurIp.value);
}

TEST(NetArp, MalformedAndSpoofedPacketsIgnored) {
    Net net(true, false);
    Bytes bad = arp(1, kPeerMac, kPeerIp, MacAddress{}, kOurIp);
    bad[4] = 8;  // hardware length
    net.receive(ethernet(kBroadcastMac, kPeerMac, 0x0806, bad));
    Bytes short_packet = arp(1, kPeerMac, kPeerIp, MacAddress{}, kOurIp);
    short_packet.resize(20);
    net.receive(ethernet(kBroadcastMac, kPeerMac, 0x0806, short_packet));
    // A sender claiming a broadcast MAC is never learned or answered.
    net.receive(ethernet(kBroadcastMac, kPeerMac, 0x0806,
                         arp(1, kBroadcastMac, kPeerIp, MacAddress{}, kOurIp)));
    EXPECT_TRUE(net.device.frames.empty());
}

}  // namespace
