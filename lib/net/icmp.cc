// ICMP input (echo, errors for the transports) and the errors this host sends.
#include "lib/net/icmp.h"

#include "lib/net/bytes.h"

namespace lib::net {

namespace {
constexpr size_t kIcmpHeaderSize = 8;
// RFC 1812 §4.3.2.3: an error quotes as much as fits in 576 bytes.
constexpr size_t kMaxQuote = 576 - kIpv4HeaderSize - kIcmpHeaderSize;

bool is_error_type(uint8_t type) {
    return type == kIcmpUnreachable || type == kIcmpSourceQuench || type == kIcmpRedirect ||
           type == kIcmpTimeExceeded || type == kIcmpParameterProblem;
}
}  // namespace

bool RateLimit::allow(uint64_t now) {
    if (m_interval && now > m_last) {
        uint64_t earned = (now - m_last) / m_interval;
        if (earned) {
            m_tokens = earned >= m_burst - m_tokens ? m_burst : m_tokens + uint32_t(earned);
            m_last += earned * m_interval;
            if (m_tokens == m_burst) m_last = now;
        }
    }
    if (m_tokens == 0) return false;
    --m_tokens;
    return true;
}

Errno unreachable_errno(uint8_t code) {
    switch (code) {
        case 0:
        case 6:
        case 9:
            return Errno::NetUnreach;
        case 2:
            return Errno::NoProtoOpt;
        case 3:
            return Errno::ConnRefused;
        case 4:
            return Errno::MsgSize;
        case 5:
            return Errno::OpNotSupp;
        default:
            return Errno::HostUnreach;
    }
}

void Icmp::input(const IncomingPacket& packet, bool broadcast, uint64_t now) {
    std::span<const uint8_t> bytes = packet.payload;
    if (bytes.size() < kIcmpHeaderSize ||
        (!packet.checksum_verified && checksum_fold(checksum_add(0, bytes)) != 0xffff)) {
        ++bad;
        return;
    }
    ++messages_in;
    uint8_t type = bytes[0], code = bytes[1];
    if (type == kIcmpUnreachable || type == kIcmpTimeExceeded) {
        error_input(packet, type, code);
        return;
    }
    if (type != kIcmpEcho || broadcast) return;
    if (!m_echo_limit.allow(now)) {
        ++rate_limited;
        return;
    }
    // RFC 792 echo reply: the same identifier, sequence and data back to the sender.
    uint8_t header[kIcmpHeaderSize];
    __builtin_memcpy(header, bytes.data(), kIcmpHeaderSize);
    header[0] = kIcmpEchoReply;
    header[1] = 0;
    store_be16(header + 2, 0);  // no pseudo-header: the running sum starts at zero
    OutgoingPacket reply;
    reply.source = packet.destination;
    reply.destination = packet.source;
    reply.protocol = kProtocolIcmp;
    reply.header = header;
    reply.payload[0] = bytes.subspan(kIcmpHeaderSize);
    reply.checksum_offset = 2;
    reply.tos = packet.tos;
    reply.dont_fragment = false;
    if (m_ip.send(reply).has_value()) ++messages_out;
}

// RFC 1122 §3.2.2.1: the quoted header names the transport; it gets the error when the
// quote is well formed and about a packet this host could have sent.
void Icmp::error_input(const IncomingPacket& packet, uint8_t type, uint8_t code) {
    std::span<const uint8_t> quote = packet.payload.subspan(kIcmpHeaderSize);
    if (quote.size() < kIpv4HeaderSize || quote[0] >> 4 != 4) {
        ++bad;
        return;
    }
    size_t header_length = size_t{quote[0] & 0x0fu} * 4;
    if (header_length < kIpv4HeaderSize || quote.size() < header_length + 8) {
        ++bad;
        return;
    }
    Ipv4Address source{load_be32(&quote[12])};
    if (!m_ip.is_local(source) || source.is_any()) {
        ++bad;
        return;
    }
    // Only the quoted datagram's first fragment carries the transport header.
    if (load_be16(&quote[6]) & kIpv4OffsetMask) return;
    Transport* transport = m_transports[quote[9]];
    if (!transport) return;
    Errno error = Errno::HostUnreach;
    uint16_t next_mtu = 0;
    if (type == kIcmpUnreachable) {
        error = unreachable_errno(code);
        if (code == kIcmpCodeFragmentationNeeded) next_mtu = load_be16(&packet.payload[6]);
    }
    transport->icmp_error(quote, error, next_mtu);
}

void Icmp::send_error(uint8_t type, uint8_t code, std::span<const uint8_t> original,
                      bool to_broadcast, uint64_t now) {
    if (to_broadcast || original.size() < kIpv4HeaderSize) return;
    size_t header_length = size_t{original[0] & 0x0fu} * 4;
    if (header_length < kIpv4HeaderSize || header_length > original.size()) return;
    if (load_be16(&original[6]) & kIpv4OffsetMask) return;  // not the first fragment
    Ipv4Address source{load_be32(&original[12])};
    Ipv4Address destination{load_be32(&original[16])};
    if (source.is_any() || source.is_broadcast() || source.is_multicast() ||
        destination.is_broadcast() || destination.is_multicast())
        return;
    if (original[9] == kProtocolIcmp) {
        if (original.size() < header_length + 1 || is_error_type(original[header_length])) return;
    }
    if (!m_error_limit.allow(now)) {
        ++rate_limited;
        return;
    }
    uint8_t header[kIcmpHeaderSize] = {type, code};
    OutgoingPacket error;
    error.source = m_ip.is_local(destination) ? destination : m_ip.source_for(source);
    if (error.source.is_any()) return;
    error.destination = source;
    error.protocol = kProtocolIcmp;
    error.header = header;
    error.payload[0] = original.first(original.size() < kMaxQuote ? original.size() : kMaxQuote);
    error.checksum_offset = 2;
    error.dont_fragment = false;
    if (m_ip.send(error).has_value()) ++messages_out;
}

}  // namespace lib::net
