// IPv4 through Stack: header validation, fragmentation, reassembly (order, overlap, timeout,
// limits), ICMP echo and errors, and a test Transport on protocol 6 (checksums both ways).
#include <gtest/gtest.h>

#include <algorithm>

#include "lib/net/reassembly.h"
#include "tests/unit/net_test_util.h"

using namespace net_test;

namespace {

class RecordingTransport final : public Transport {
public:
    void input(const IncomingPacket& p) override {
        packets.push_back(Bytes(p.payload.begin(), p.payload.end()));
        verified.push_back(p.checksum_verified);
        sources.push_back(p.source);
    }
    void icmp_error(std::span<const uint8_t> original, lib::Errno error, uint16_t mtu) override {
        errors.push_back(error);
        quotes.push_back(Bytes(original.begin(), original.end()));
        next_mtu = mtu;
    }
    uint64_t run_timers(uint64_t) override { return kNoDeadline; }
    uint64_t next_deadline() const override { return kNoDeadline; }

    std::vector<Bytes> packets;
    std::vector<bool> verified;
    std::vector<Ipv4Address> sources;
    std::vector<lib::Errno> errors;
    std::vector<Bytes> quotes;
    uint16_t next_mtu = 0;
};

Bytes pattern(size_t n) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 7 + 3);
    return b;
}

// A TCP-like segment: a 20-byte header whose checksum field (offset 16) holds the
// pseudo-header sum, as TcpLayer writes it.
struct Segment {
    Bytes header = Bytes(20);
    Bytes data;
    OutgoingPacket packet(Ipv4Address src, Ipv4Address dst, bool df = true) {
        store_be16(&header[0], 4000);
        store_be16(&header[2], 80);
        header[12] = 5 << 4;
        uint16_t length = static_cast<uint16_t>(header.size() + data.size());
        store_be16(&header[16], checksum_fold(pseudo_header_sum(src.value, dst.value, 6, length)));
        OutgoingPacket p;
        p.source = src;
        p.destination = dst;
        p.protocol = 6;
        p.header = header;
        p.payload[0] = std::span<const uint8_t>(data).first(data.size() / 2);
        p.payload[1] = std::span<const uint8_t>(data).subspan(data.size() / 2);
        p.checksum_offset = 16;
        p.dont_fragment = df;
        return p;
    }
};

TEST(NetIpv4, TransportReceivesValidPackets) {
    Net net;
    RecordingTransport tcp;
    net.stack.register_transport(6, tcp);
    IpFields f;
    f.protocol = 6;
    net.receive(frame_to_us(ipv4(f, pattern(40))), true);
    ASSERT_EQ(tcp.packets.size(), 1u);
    EXPECT_EQ(tcp.packets[0], pattern(40));
    EXPECT_TRUE(tcp.verified[0]);
    EXPECT_EQ(net.stack.stats().ip_in, 1u);
}

TEST(NetIpv4, EachBadHeaderFieldIsDroppedAndCounted) {
    Net net;
    RecordingTransport tcp;
    net.stack.register_transport(6, tcp);
    IpFields f;
    f.protocol = 6;
    Bytes good = ipv4(f, pattern(16));
    auto fix_checksum = [](Bytes& p) {
        store_be16(&p[10], 0);
        size_t ihl = (p[0] & 15) * 4;
        store_be16(&p[10], checksum_finish(checksum_add(0, std::span(p).first(ihl))));
    };
    std::vector<Bytes> bad;
    Bytes b = good;
    b[0] = 0x65, fix_checksum(b), bad.push_back(b);  // version 6
    b = good, b[0] = 0x44, bad.push_back(b);         // IHL 4 (checksum irrelevant)
    b = good, b[0] = 0x4f, bad.push_back(b);         // IHL past the packet
    b = good, store_be16(&b[2], 19), fix_checksum(b), bad.push_back(b);           // total < header
    b = good, store_be16(&b[2], 200), fix_checksum(b), bad.push_back(b);          // total > frame
    b = good, b[10] ^= 1, bad.push_back(b);                                       // checksum
    b = good, b.resize(12), bad.push_back(b);                                     // truncated
    b = good, store_be32(&b[12], 0xffffffff), fix_checksum(b), bad.push_back(b);  // bcast src
    for (const Bytes& p : bad) net.receive(frame_to_us(p));
    EXPECT_TRUE(tcp.packets.empty());
    EXPECT_EQ(net.stack.stats().ip_bad, bad.size());
    net.receive(frame_to_us(good));
    EXPECT_EQ(tcp.packets.size(), 1u);
}

TEST(NetIpv4, OptionsSkippedAndPaddingTrimmed) {
    Net net;
    RecordingTransport tcp;
    net.stack.register_transport(6, tcp);
    IpFields f;
    f.protocol = 6;
    Bytes p = ipv4(f, pattern(10));
    // Insert 4 bytes of options (NOP NOP NOP EOL) and fix IHL, length and checksum.
    p.insert(p.begin() + 20, {1, 1, 1, 0});
    p[0] = 0x46;
    store_be16(&p[2], static_cast<uint16_t>(p.size()));
    store_be16(&p[10], 0);
    store_be16(&p[10], checksum_finish(checksum_add(0, std::span(p).first(24))));
    p.resize(p.size() + 6, 0xee);  // Ethernet padding
    net.receive(frame_to_us(p));
    ASSERT_EQ(tcp.packets.size(), 1u);
    EXPECT_EQ(tcp.packets[0], pattern(10));
}

TEST(NetIpv4, FramesNotForUsAndVlanTaggedAreDropped) {
    Net net;
    RecordingTransport tcp;
    net.stack.register_transport(6, tcp);
    IpFields f;
    f.protocol = 6;
    Bytes ip = ipv4(f, pattern(8));
    net.receive(ethernet(MacAddress{{2, 2, 2, 2, 2, 2}}, kPeerMac, 0x0800, ip));
    Bytes tagged = ip;
    tagged.insert(tagged.begin(), {0x00, 0x05, 0x08, 0x00});  // VID 5, then IPv4
    net.receive(ethernet(kOurMac, kPeerMac, 0x8100, tagged));
    f.destination = Ipv4Address::from(10, 0, 2, 77);
    net.receive(frame_to_us(ipv4(f, pattern(8))));
    EXPECT_TRUE(tcp.packets.empty());
    EXPECT_EQ(net.stack.interface_info(net.eth).rx_dropped, 3u);
}

TEST(NetIpv4, TransportSendFinishedInSoftware) {
    Net net;
    Segment s;
    s.data = pattern(101);  // odd: the halves meet at an odd offset
    ASSERT_FALSE(net.stack.send(s.packet(kOurIp, kFarIp)).is_error());
    ASSERT_EQ(net.device.frames.size(), 1u);
    const SentFrame& f = net.device.frames[0];
    EXPECT_FALSE(f.meta.checksum_partial);
    Bytes ip = ip_of(f);
    ASSERT_EQ(ip.size(), 20u + 20 + 101);
    EXPECT_TRUE(checksum_ok(std::span(ip).first(20)));
    EXPECT_EQ(be32(ip, 16), kFarIp.value);
    EXPECT_TRUE(std::equal(f.bytes.begin(), f.bytes.begin() + 6, kPeerMac.bytes.begin()));  // gw
    EXPECT_NE(be16(ip, 6) & 0x4000, 0);                                                     // DF
    std::span<const uint8_t> segment = std::span(ip).subspan(20);
    EXPECT_TRUE(checksum_ok(segment, pseudo_header_sum(kOurIp.value, kFarIp.value, 6,
                                                       static_cast<uint16_t>(segment.size()))));
}

TEST(NetIpv4, TransportSendOffloadedToDevice) {
    Net net;
    net.device.offload = true;
    Segment s;
    s.data = pattern(64);
    ASSERT_FALSE(net.stack.send(s.packet(kOurIp, kFarIp)).is_error());
    ASSERT_EQ(net.device.frames.size(), 1u);
    const SentFrame& f = net.device.frames[0];
    ASSERT_TRUE(f.meta.checksum_partial);
    EXPECT_EQ(f.meta.checksum_start, 34);
    EXPECT_EQ(f.meta.checksum_offset, 34 + 16);
    // The field still holds the pseudo-header sum; finishing it as the device would works.
    Bytes frame = f.bytes;
    uint16_t v = checksum_finish(checksum_add(0, std::span(frame).subspan(34)));
    store_be16(&frame[50], v);
    EXPECT_TRUE(checksum_ok(std::span(frame).subspan(34),
                            pseudo_header_sum(kOurIp.value, kFarIp.value, 6, 84)));
}

TEST(NetIpv4, FragmentsWhenDfClearAndRefusesWhenSet) {
    Net net;
    net.device.offload = true;  // fragments are finished in software regardless
    Segment s;
    s.data = pattern(4000);
    auto r = net.stack.send(s.packet(kOurIp, kFarIp, true));
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error(), lib::Errno::MsgSize);
    ASSERT_FALSE(net.stack.send(s.packet(kOurIp, kFarIp, false)).is_error());
    ASSERT_EQ(net.device.frames.size(), 3u);
    // Reassemble them with a second stack's reassembler.
    StackLimits limits;
    Reassembler reassembler(limits);
    Reassembler::Datagram whole;
    int complete = 0;
    for (auto& f : net.device.frames) {
        EXPECT_FALSE(f.meta.checksum_partial);
        EXPECT_LE(f.bytes.size(), 1514u);
        Bytes ip = ip_of(f);
        Ipv4Packet p;
        ASSERT_EQ(parse_ipv4(ip, p), Ipv4Error::None);
        EXPECT_TRUE(p.is_fragment());
        complete += reassembler.add(p, 0, whole) == Reassembler::Outcome::Complete;
    }
    ASSERT_EQ(complete, 1);
    std::span<const uint8_t> segment(whole.bytes + 20, whole.size - 20);
    EXPECT_EQ(segment.size(), 4020u);
    EXPECT_TRUE(checksum_ok(segment, pseudo_header_sum(kOurIp.value, kFarIp.value, 6, 4020)));
    EXPECT_TRUE(std::equal(segment.begin() + 20, segment.end(), s.data.begin()));
    Reassembler::release(whole);
}

struct Fragmenter {
    Bytes data = pattern(3000);
    uint16_t id = 77;
    Bytes fragment(size_t offset, size_t size, bool more, uint8_t protocol = 6) {
        IpFields f;
        f.protocol = protocol;
        f.id = id;
        f.flags_offset = static_cast<uint16_t>((more ? 0x2000 : 0) | offset / 8);
        return frame_to_us(ipv4(f, Bytes(data.begin() + offset, data.begin() + offset + size)));
    }
};

TEST(NetIpv4, ReassemblesInAnyOrder) {
    for (int order = 0; order < 6; ++order) {
        Net net;
        RecordingTransport tcp;
        net.stack.register_transport(6, tcp);
        Fragmenter fr;
        Bytes frags[3] = {fr.fragment(0, 1000, true), fr.fragment(1000, 1000, true),
                          fr.fragment(2000, 1000, false)};
        int idx[3] = {0, 1, 2};
        for (int k = 0; k < order; ++k) std::next_permutation(idx, idx + 3);
        for (int i : idx) net.receive(frags[i], true);
        ASSERT_EQ(tcp.packets.size(), 1u) << order;
        EXPECT_EQ(tcp.packets[0], fr.data);
        EXPECT_FALSE(tcp.verified[0]);  // the device's verdict was per fragment
        EXPECT_EQ(net.stack.stats().ip_reassembled, 1u);
    }
}

TEST(NetIpv4, OverlappingFragmentsDropTheDatagram) {
    Net net;
    RecordingTransport tcp;
    net.stack.register_transport(6, tcp);
    Fragmenter fr;
    net.receive(fr.fragment(0, 1000, true));
    net.receive(fr.fragment(992, 1008, true));  // overlaps the first by 8 bytes
    net.receive(fr.fragment(2000, 1000, false));
    net.receive(fr.fragment(1000, 1000, true));
    EXPECT_TRUE(tcp.packets.empty());
    EXPECT_GE(net.stack.stats().ip_reassembly_dropped, 1u);
    // Exact duplicates are harmless.
    fr.id = 78;
    net.receive(fr.fragment(0, 1000, true));
    net.receive(fr.fragment(0, 1000, true));
    net.receive(fr.fragment(1000, 2000, false));
    EXPECT_EQ(tcp.packets.size(), 1u);
}

TEST(NetIpv4, ReassemblyTimesOutWithTimeExceeded) {
    Net net;
    RecordingTransport tcp;
    net.stack.register_transport(6, tcp);
    Fragmenter fr;
    net.receive(fr.fragment(0, 1000, true));
    EXPECT_EQ(net.stack.next_deadline(), net.env.now + 30 * kSecond);
    net.env.now += 30 * kSecond;
    net.stack.run_timers(net.env.now);
    ASSERT_EQ(net.device.frames.size(), 1u);
    Bytes ip = ip_of(net.device.frames[0]);
    EXPECT_EQ(ip[9], 1);
    EXPECT_EQ(ip[20], 11);  // time exceeded
    EXPECT_EQ(ip[21], 1);   // fragment reassembly time exceeded
    // The rest never completes the old datagram.
    net.receive(fr.fragment(1000, 2000, false));
    EXPECT_TRUE(tcp.packets.empty());
    EXPECT_EQ(net.stack.next_deadline(), net.env.now + 30 * kSecond);
}

TEST(NetIpv4, FragmentFloodStaysWithinLimits) {
    FakeEnv env;
    FakeDevice device;
    StackLimits limits;
    limits.reassembly_datagrams = 16;
    limits.reassembly_bytes = 64 * 1024;
    Reassembler r(limits);
    Reassembler::Datagram whole;
    Bytes chunk(1400, 0xab);
    for (uint32_t i = 0; i < 5000; ++i) {
        Ipv4Packet p;
        p.source = kPeerIp;
        p.destination = kOurIp;
        p.protocol = 17;
        p.id = static_cast<uint16_t>(i);
        p.more_fragments = true;
        p.fragment_offset = (i % 40) * 1400;
        p.payload = chunk;
        EXPECT_NE(r.add(p, i, whole), Reassembler::Outcome::Complete);
        EXPECT_LE(r.datagrams(), 16u);
        EXPECT_LE(r.bytes(), 64u * 1024);
    }
    // Oversized (past 65535) and misaligned fragments are refused outright.
    Ipv4Packet p;
    p.more_fragments = false;
    p.fragment_offset = 65000;
    p.payload = chunk;
    EXPECT_EQ(r.add(p, 0, whole), Reassembler::Outcome::Dropped);
    p.more_fragments = true;
    p.fragment_offset = 0;
    p.payload = std::span<const uint8_t>(chunk).first(13);
    EXPECT_EQ(r.add(p, 0, whole), Reassembler::Outcome::Dropped);
}

TEST(NetIcmp, EchoRequestAnswered) {
    Net net;
    IpFields f;
    f.protocol = 1;
    net.receive(frame_to_us(ipv4(f, icmp(8, 0, 0x12340001, pattern(56)))));
    ASSERT_EQ(net.device.frames.size(), 1u);
    Bytes ip = ip_of(net.device.frames[0]);
    EXPECT_EQ(be32(ip, 12), kOurIp.value);
    EXPECT_EQ(be32(ip, 16), kPeerIp.value);
    std::span<const uint8_t> m = std::span(ip).subspan(20);
    EXPECT_EQ(m[0], 0);
    EXPECT_EQ(load_be32(&m[4]), 0x12340001u);
    EXPECT_TRUE(std::equal(m.begin() + 8, m.end(), pattern(56).begin()));
    EXPECT_TRUE(checksum_ok(m));
}

TEST(NetIcmp, EchoRepliesAreRateLimitedAndBroadcastsIgnored) {
    Net net;
    IpFields f;
    f.protocol = 1;
    for (int i = 0; i < 200; ++i) net.receive(frame_to_us(ipv4(f, icmp(8, 0, i, {}))));
    EXPECT_EQ(net.device.frames.size(), 50u);
    net.device.frames.clear();
    net.env.now += kSecond;
    f.destination = kBroadcastAddress;
    net.receive(ethernet(kBroadcastMac, kPeerMac, 0x0800, ipv4(f, icmp(8, 0, 1, {}))));
    EXPECT_TRUE(net.device.frames.empty());
    // A bad ICMP checksum is dropped.
    f.destination = kOurIp;
    Bytes m = icmp(8, 0, 1, {});
    m[2] ^= 0xff;
    net.receive(frame_to_us(ipv4(f, m)));
    EXPECT_TRUE(net.device.frames.empty());
}

TEST(NetIcmp, ProtocolUnreachableButNeverForBroadcastsOrErrors) {
    Net net;
    IpFields f;
    f.protocol = 99;
    net.receive(frame_to_us(ipv4(f, pattern(12))));
    ASSERT_EQ(net.device.frames.size(), 1u);
    Bytes ip = ip_of(net.device.frames[0]);
    EXPECT_EQ(ip[20], 3);
    EXPECT_EQ(ip[21], 2);
    EXPECT_EQ(net.stack.stats().unknown_protocol, 1u);
    net.device.frames.clear();
    f.destination = kBroadcastAddress;
    net.receive(ethernet(kBroadcastMac, kPeerMac, 0x0800, ipv4(f, pattern(12))));
    f.destination = kOurIp;
    f.flags_offset = 0x2000 | 100;  // a non-first fragment (never completes)
    net.receive(frame_to_us(ipv4(f, pattern(16))));
    EXPECT_TRUE(net.device.frames.empty());
}

TEST(NetIcmp, ErrorsReachTheTransportThatSentThePacket) {
    Net net;
    RecordingTransport tcp;
    net.stack.register_transport(6, tcp);
    IpFields original;
    original.source = kOurIp;
    original.destination = kFarIp;
    original.protocol = 6;
    Bytes quoted = ipv4(original, pattern(8));
    IpFields f;
    f.protocol = 1;
    net.receive(frame_to_us(ipv4(f, icmp(3, 4, 1400, quoted))));  // frag needed, MTU 1400
    net.receive(frame_to_us(ipv4(f, icmp(3, 3, 0, quoted))));
    net.receive(frame_to_us(ipv4(f, icmp(11, 0, 0, quoted))));
    ASSERT_EQ(tcp.errors.size(), 3u);
    EXPECT_EQ(tcp.errors[0], lib::Errno::MsgSize);
    EXPECT_EQ(tcp.next_mtu, 0);  // the last one carried none
    EXPECT_EQ(tcp.errors[1], lib::Errno::ConnRefused);
    EXPECT_EQ(tcp.errors[2], lib::Errno::HostUnreach);
    EXPECT_EQ(tcp.quotes[0], quoted);
    // Quotes of packets we did not send, or too short, are ignored.
    IpFields spoof = original;
    spoof.source = Ipv4Address::from(1, 2, 3, 4);
    net.receive(frame_to_us(ipv4(f, icmp(3, 3, 0, ipv4(spoof, pattern(8))))));
    net.receive(frame_to_us(ipv4(f, icmp(3, 3, 0, Bytes(quoted.begin(), quoted.begin() + 24)))));
    EXPECT_EQ(tcp.errors.size(), 3u);
    EXPECT_TRUE(net.device.frames.empty());  // no ICMP about ICMP errors
}

TEST(NetRouting, LoopbackOnLinkGatewayAndNoRoute) {
    Net net;
    EXPECT_EQ(net.stack.source_for(kLoopbackAddress), kLoopbackAddress);
    EXPECT_EQ(net.stack.mtu_to(kLoopbackAddress), 65535);
    EXPECT_EQ(net.stack.mtu_to(kOurIp), 65535);  // our own address loops back
    EXPECT_EQ(net.stack.mtu_to(kFarIp), 1500);
    EXPECT_EQ(net.stack.source_for(kFarIp), kOurIp);
    EXPECT_TRUE(net.stack.is_local(kOurIp));
    EXPECT_FALSE(net.stack.is_local(kPeerIp));
    Net bare(false);
    EXPECT_EQ(bare.stack.mtu_to(kFarIp), 0);
    EXPECT_EQ(bare.stack.source_for(kFarIp), kAnyAddress);
    Segment s;
    auto r = bare.stack.send(s.packet(kAnyAddress, kFarIp));
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error(), lib::Errno::NetUnreach);
    EXPECT_EQ(bare.stack.stats().no_route, 1u);
}

TEST(NetLoopback, DeliveredOnlyByFlushWithChecksumVerified) {
    Net net;
    RecordingTransport tcp;
    net.stack.register_transport(6, tcp);
    Segment s;
    s.data = pattern(30000);
    ASSERT_FALSE(net.stack.send(s.packet(kLoopbackAddress, kLoopbackAddress)).is_error());
    EXPECT_TRUE(tcp.packets.empty());  // never from inside send
    EXPECT_EQ(net.stack.next_deadline(), 0u);
    net.stack.flush_loopback();
    ASSERT_EQ(tcp.packets.size(), 1u);
    EXPECT_TRUE(tcp.verified[0]);
    EXPECT_EQ(tcp.packets[0].size(), 30020u);
    EXPECT_TRUE(net.device.frames.empty());
    EXPECT_EQ(net.stack.interface_info(0).tx_frames, 1u);
    EXPECT_STREQ(net.stack.interface_info(0).name, "lo");
}

TEST(NetLoopback, QueueIsBounded) {
    FakeEnv env;
    StackLimits limits;
    limits.loopback_queue = 4;
    Stack stack(env, limits);
    Segment s;
    for (int i = 0; i < 4; ++i)
        ASSERT_FALSE(stack.send(s.packet(kLoopbackAddress, kLoopbackAddress)).is_error());
    auto r = stack.send(s.packet(kLoopbackAddress, kLoopbackAddress));
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error(), lib::Errno::NoBufs);
    stack.flush_loopback();  // no transport: protocol unreachable goes back over loopback
    stack.flush_loopback();
    EXPECT_EQ(stack.next_deadline(), kNoDeadline);
}

}  // namespace
