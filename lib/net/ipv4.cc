// IPv4 header validation and building (RFC 791 §3.1, RFC 1122 §3.2.1).
#include "lib/net/ipv4.h"

#include "lib/net/bytes.h"

namespace lib::net {

Ipv4Error parse_ipv4(std::span<const uint8_t> bytes, Ipv4Packet& out) {
    if (bytes.size() < kIpv4HeaderSize) return Ipv4Error::TooShort;
    const uint8_t* p = bytes.data();
    // RFC 1122 §3.2.1.1: a version other than 4 is silently discarded.
    if (p[0] >> 4 != 4) return Ipv4Error::Version;
    size_t header_length = size_t{p[0] & 0x0fu} * 4;
    if (header_length < kIpv4HeaderSize || header_length > bytes.size())
        return Ipv4Error::HeaderLength;
    size_t total = load_be16(p + 2);
    // The link may pad a short packet; it may never cut one.
    if (total < header_length || total > bytes.size()) return Ipv4Error::TotalLength;
    // RFC 1122 §3.2.1.2: the header checksum is always verified, offload or not.
    if (checksum_fold(checksum_add(0, bytes.first(header_length))) != 0xffff)
        return Ipv4Error::Checksum;
    out.tos = p[1];
    out.id = load_be16(p + 4);
    uint16_t flags = load_be16(p + 6);
    out.dont_fragment = flags & kIpv4FlagDf;
    out.more_fragments = flags & kIpv4FlagMf;
    out.fragment_offset = uint32_t{flags} % 0x2000u * 8;
    // RFC 1122 §3.2.1.7: a host must not discard a datagram for a TTL under 2; TTL matters to
    // forwarding, which Phoenix does not do.
    out.ttl = p[8];
    out.protocol = p[9];
    out.source = Ipv4Address{load_be32(p + 12)};
    out.destination = Ipv4Address{load_be32(p + 16)};
    out.header = bytes.first(header_length);
    out.payload = bytes.subspan(header_length, total - header_length);
    return Ipv4Error::None;
}

void write_ipv4_header(uint8_t* out, const Ipv4HeaderFields& f) {
    out[0] = 0x45;
    out[1] = f.tos;
    store_be16(out + 2, f.total_length);
    store_be16(out + 4, f.id);
    store_be16(out + 6, f.flags_offset);
    out[8] = f.ttl;
    out[9] = f.protocol;
    store_be16(out + 10, 0);
    store_be32(out + 12, f.source.value);
    store_be32(out + 16, f.destination.value);
    store_be16(out + 10, checksum_finish(checksum_add(0, {out, kIpv4HeaderSize})));
}

size_t Gather::size() const { return pieces[0].size() + pieces[1].size() + pieces[2].size(); }

void Gather::copy(size_t offset, uint8_t* out, size_t count) const {
    for (const auto& piece : pieces) {
        if (count == 0) return;
        if (offset >= piece.size()) {
            offset -= piece.size();
            continue;
        }
        size_t n = piece.size() - offset;
        if (n > count) n = count;
        __builtin_memcpy(out, piece.data() + offset, n);
        out += n;
        count -= n;
        offset = 0;
    }
}

uint32_t Gather::checksum() const {
    uint32_t sum = 0;
    size_t position = 0;
    for (const auto& piece : pieces) {
        uint16_t part = checksum_fold(checksum_add(0, piece));
        // A piece starting at an odd offset contributes its sum byte-swapped (RFC 1071 §2.B).
        if (position & 1) part = static_cast<uint16_t>(part << 8 | part >> 8);
        sum += part;
        position += piece.size();
    }
    return sum;
}

}  // namespace lib::net
