// Packets out: routing, the transport checksum (finished here or by the device), IPv4
// headers, fragmentation (RFC 791 §3.2), and the link: loopback's queue, broadcast and
// multicast MACs, or ARP.
#include "lib/net/bytes.h"
#include "lib/net/stack.h"
#include "lib/net/stack_impl.h"

namespace lib::net {

namespace {
// Software finishing: the field holds the pseudo-header sum, so the sum over everything is
// the checksum's complement. UDP sends a computed zero as 0xffff (RFC 768).
void finish_checksum(uint8_t* header, const OutgoingPacket& p, const Gather& g) {
    uint16_t value = checksum_finish(g.checksum());
    if (value == 0 && p.protocol == kProtocolUdp) value = 0xffff;
    store_be16(header + p.checksum_offset, value);
}
}  // namespace

ErrorOr Stack::send(const OutgoingPacket& packet) {
    Impl& s = *m_impl;
    if (packet.header.size() > kMaxTransportHeader ||
        size_t{packet.checksum_offset} + 2 > packet.header.size())
        return Errno::Inval;
    auto route = s.route(packet.destination);
    if (!route) {
        ++s.stats.no_route;
        return Errno::NetUnreach;
    }
    Ipv4Address source = packet.source.is_any() ? route->source : packet.source;
    if (source.is_any() || !is_local(source)) return Errno::AddrNotAvail;
    return s.output(packet, *route, source);
}

ErrorOr Stack::Impl::output(const OutgoingPacket& p, const Route& route, Ipv4Address source) {
    uint8_t header[kMaxTransportHeader];
    __builtin_memcpy(header, p.header.data(), p.header.size());
    Gather g{{{header, p.header.size()}, p.payload[0], p.payload[1]}};
    size_t transport_size = g.size();
    if (transport_size > kIpv4MaxPacket - kIpv4HeaderSize) return Errno::MsgSize;
    size_t total = kIpv4HeaderSize + transport_size;
    Interface& ifc = *interfaces[route.interface];
    Ipv4HeaderFields fields;
    fields.source = source;
    fields.destination = p.destination;
    fields.protocol = p.protocol;
    fields.tos = p.tos;
    fields.ttl = p.ttl ? p.ttl : 64;  // RFC 1122 §3.2.1.7: never send a TTL of zero
    // Unique while fragments may be in flight: a counter from a random start (RFC 6864).
    fields.id = next_id++;

    if (route.loopback) {
        // No checksum: loopback delivers with checksum_verified (nothing can corrupt it),
        // and a software pass over every byte is the dearest thing the stack does where
        // ring 0 is emulated. The field keeps the pseudo-header sum, as a NEEDS_CSUM frame.
        Interface& lo = *interfaces[0];
        uint8_t* buffer = loopback.reserve(total);
        if (!buffer) {
            ++lo.link.counters.tx_dropped;
            return Errno::NoBufs;
        }
        fields.total_length = static_cast<uint16_t>(total);
        fields.flags_offset = p.dont_fragment ? kIpv4FlagDf : 0;
        write_ipv4_header(buffer, fields);
        g.copy(0, buffer + kIpv4HeaderSize, transport_size);
        ++lo.link.counters.tx_frames;
        lo.link.counters.tx_bytes += total;
        ++stats.ip_out;
        return {};
    }

    bool fits = total <= ifc.mtu;
    if (!fits && p.dont_fragment) return Errno::MsgSize;
    TxMeta meta;
    if (fits && ifc.link.device->checksum_offload()) {
        meta.checksum_partial = true;
        meta.checksum_start = kEthernetHeaderSize + kIpv4HeaderSize;
        meta.checksum_offset =
            static_cast<uint16_t>(kEthernetHeaderSize + kIpv4HeaderSize + p.checksum_offset);
    } else {
        finish_checksum(header, p, g);  // fragments: no device sums across them
    }
    uint8_t* frame = ifc.scratch;
    write_ethernet(frame, MacAddress{}, ifc.link.mac, kEtherTypeIpv4);
    uint8_t* ip_header = frame + kEthernetHeaderSize;
    // Every fragment but the last carries a multiple of 8 bytes.
    size_t chunk = fits ? transport_size : (ifc.mtu - kIpv4HeaderSize) & ~size_t{7};
    ErrorOr result;
    size_t offset = 0;
    do {
        size_t size = transport_size - offset < chunk ? transport_size - offset : chunk;
        bool more = offset + size < transport_size;
        fields.total_length = static_cast<uint16_t>(kIpv4HeaderSize + size);
        fields.flags_offset = static_cast<uint16_t>((p.dont_fragment ? kIpv4FlagDf : 0) |
                                                    (more ? kIpv4FlagMf : 0) | (offset / 8));
        write_ipv4_header(ip_header, fields);
        g.copy(offset, ip_header + kIpv4HeaderSize, size);
        ErrorOr sent =
            link_output(ifc, route, {frame, kEthernetHeaderSize + kIpv4HeaderSize + size}, meta);
        if (sent.is_error() && !result.is_error()) result = sent;
        offset += size;
    } while (offset < transport_size);
    if (!result.is_error()) ++stats.ip_out;
    return result;
}

ErrorOr Stack::Impl::link_output(Interface& ifc, const Route& route, std::span<uint8_t> frame,
                                 const TxMeta& meta) {
    Ipv4Address destination{load_be32(&frame[kEthernetHeaderSize + 16])};
    MacAddress mac;
    if (route.broadcast || destination.is_broadcast()) {
        mac = kBroadcastMac;
    } else if (destination.is_multicast()) {
        mac = multicast_mac(destination);
    } else {
        return ifc.arp->output(route.next_hop, ifc.address(), frame, meta, env.now_ns());
    }
    for (size_t i = 0; i < 6; ++i) frame[i] = mac.bytes[i];
    if (!ifc.link.transmit(frame, meta)) return Errno::NoBufs;
    return {};
}

}  // namespace lib::net
