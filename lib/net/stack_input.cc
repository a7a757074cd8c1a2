// Frames in: Ethernet demultiplexing, IPv4 validation and reassembly, delivery to ICMP, the
// DHCP client and the transports, and the loopback queue's delivery.
#include "lib/net/bytes.h"
#include "lib/net/stack.h"
#include "lib/net/stack_impl.h"

namespace lib::net {

void Stack::receive(int interface, std::span<const uint8_t> frame, const RxMeta& meta) {
    if (interface <= 0 || static_cast<size_t>(interface) >= m_impl->count) return;
    m_impl->frame_input(*m_impl->interfaces[interface], frame, meta);
}

void Stack::Impl::frame_input(Interface& ifc, std::span<const uint8_t> frame, const RxMeta& meta) {
    LinkCounters& counters = ifc.link.counters;
    ++counters.rx_frames;
    counters.rx_bytes += frame.size();
    auto eth = parse_ethernet(frame);
    // Ours, broadcast, or the all-hosts group every IPv4 host belongs to (RFC 1112 §4).
    if (!eth || !ifc.up ||
        !(eth->destination == ifc.link.mac || eth->destination.is_broadcast() ||
          eth->destination == multicast_mac(kAllHostsGroup))) {
        ++counters.rx_dropped;
        return;
    }
    std::span<const uint8_t> payload = frame.subspan(kEthernetHeaderSize);
    switch (eth->type) {
        case kEtherTypeArp:
            ifc.arp->input(payload, ifc.address(), env.now_ns());
            return;
        case kEtherTypeIpv4:
            ip_input(ifc, payload, meta.checksum_verified);
            return;
        default:
            // VLAN-tagged (802.1Q, 802.1ad) and every other EtherType: Phoenix joins no VLAN.
            ++counters.rx_dropped;
            return;
    }
}

void Stack::Impl::ip_input(Interface& ifc, std::span<const uint8_t> bytes, bool verified) {
    Ipv4Packet p;
    if (parse_ipv4(bytes, p) != Ipv4Error::None) {
        ++stats.ip_bad;
        return;
    }
    // RFC 1122 §3.2.1.3: these never name a real sender, and 127/8 never crosses a wire.
    if (p.source.is_broadcast() || p.source.is_multicast() || p.source.is_loopback() ||
        p.destination.is_loopback()) {
        ++stats.ip_bad;
        return;
    }
    ++stats.ip_in;
    bool broadcast = p.destination.is_broadcast() || p.destination == kAllHostsGroup ||
                     (ifc.configured && is_broadcast_for(ifc.config, p.destination));
    bool ours = !p.destination.is_any() && ip.is_local(p.destination);
    // Until bound, the DHCP client takes UDP to any address (servers may unicast to yiaddr).
    bool for_dhcp =
        ifc.dhcp && ifc.dhcp->state() != DhcpClient::State::Stopped && p.protocol == kProtocolUdp;
    if (!ours && !broadcast && !for_dhcp) {
        ++ifc.link.counters.rx_dropped;
        return;
    }
    if (!p.is_fragment()) {
        deliver(ifc, p, bytes.first(p.header.size() + p.payload.size()), verified, broadcast);
        return;
    }
    ++stats.ip_fragments_in;
    Reassembler::Datagram whole;
    if (reassembler.add(p, env.now_ns(), whole) != Reassembler::Outcome::Complete) return;
    ++stats.ip_reassembled;
    Ipv4Packet full;
    // The device's verdict covered one fragment, not the datagram.
    if (parse_ipv4({whole.bytes, whole.size}, full) == Ipv4Error::None)
        deliver(ifc, full, {whole.bytes, whole.size}, false, broadcast);
    Reassembler::release(whole);
}

// UDP to port 68 for a running DHCP client; true when taken.
bool Stack::Impl::dhcp_input(Interface& ifc, const Ipv4Packet& p, bool verified) {
    std::span<const uint8_t> udp = p.payload;
    if (udp.size() < 8 || load_be16(&udp[2]) != kDhcpClientPort ||
        load_be16(&udp[0]) != kDhcpServerPort)
        return false;
    size_t length = load_be16(&udp[4]);
    if (length < 8 || length > udp.size()) return true;
    udp = udp.first(length);
    uint16_t stored = load_be16(&udp[6]);
    if (stored != 0 && !verified) {
        uint32_t sum = pseudo_header_sum(p.source.value, p.destination.value, kProtocolUdp,
                                         static_cast<uint16_t>(length));
        if (checksum_fold(checksum_add(sum, udp)) != 0xffff) return true;
    }
    ifc.dhcp->input(udp.subspan(8), env.now_ns());
    return true;
}

void Stack::Impl::deliver(Interface& ifc, const Ipv4Packet& p, std::span<const uint8_t> whole,
                          bool verified, bool broadcast) {
    bool ours = !p.destination.is_any() && ip.is_local(p.destination);
    if (p.protocol == kProtocolUdp && ifc.dhcp && ifc.dhcp->state() != DhcpClient::State::Stopped &&
        dhcp_input(ifc, p, verified))
        return;
    if (!ours && !broadcast) return;  // was only let through for DHCP
    IncomingPacket in;
    in.source = p.source;
    in.destination = p.destination;
    in.protocol = p.protocol;
    in.tos = p.tos;
    in.ttl = p.ttl;
    in.checksum_verified = verified;
    in.payload = p.payload;
    uint64_t now = env.now_ns();
    if (p.protocol == kProtocolIcmp) {
        icmp.input(in, broadcast, now);
        return;
    }
    Transport* transport = transports[p.protocol];
    if (!transport) {
        ++stats.unknown_protocol;
        icmp.send_error(kIcmpUnreachable, kIcmpCodeProtocolUnreachable, whole, broadcast, now);
        return;
    }
    current = whole;
    current_broadcast = broadcast;
    transport->input(in);
    current = {};
}

void Stack::Impl::udp_unreachable(const IncomingPacket& packet, void* context) {
    auto& s = *static_cast<Impl*>(context);
    // Only for the packet being delivered: its IPv4 header is what the error quotes.
    const uint8_t* at = packet.payload.data();
    if (s.current.empty() || at < s.current.data() || at > s.current.data() + s.current.size())
        return;
    s.icmp.send_error(kIcmpUnreachable, kIcmpCodePortUnreachable, s.current,
                      s.current_broadcast || packet.destination.is_broadcast() ||
                          packet.destination.is_multicast(),
                      s.env.now_ns());
}

void Stack::flush_loopback() {
    Impl& s = *m_impl;
    if (s.flushing) return;
    s.flushing = true;
    Interface& lo = *s.interfaces[0];
    // Bounded per call so two transports answering each other cannot keep this loop going;
    // what is left makes next_deadline() due at once.
    for (uint32_t budget = 2 * s.limits.loopback_queue + 1; budget && !s.loopback.empty();
         --budget) {
        std::span<const uint8_t> bytes = s.loopback.front();
        ++lo.link.counters.rx_frames;
        lo.link.counters.rx_bytes += bytes.size();
        Ipv4Packet p;
        if (parse_ipv4(bytes, p) == Ipv4Error::None) {
            ++s.stats.ip_in;
            s.deliver(lo, p, bytes, true, false);
        }
        s.loopback.pop();
    }
    s.flushing = false;
}

}  // namespace lib::net
