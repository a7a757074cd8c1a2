// ICMP (RFC 792, RFC 1122 §3.2.2): echo replies, the errors this host sends (destination
// unreachable, time exceeded) and the errors it receives, validated and handed to the
// transport whose packet they quote.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/net/ip_output.h"
#include "lib/net/ipv4.h"

namespace lib::net {

inline constexpr uint8_t kIcmpEchoReply = 0, kIcmpUnreachable = 3, kIcmpSourceQuench = 4,
                         kIcmpRedirect = 5, kIcmpEcho = 8, kIcmpTimeExceeded = 11,
                         kIcmpParameterProblem = 12;
inline constexpr uint8_t kIcmpCodeNetUnreachable = 0, kIcmpCodeHostUnreachable = 1,
                         kIcmpCodeProtocolUnreachable = 2, kIcmpCodePortUnreachable = 3,
                         kIcmpCodeFragmentationNeeded = 4, kIcmpCodeReassemblyTimeout = 1;

// A token bucket: `burst` messages at once, then one per `interval_ns`.
class RateLimit {
public:
    RateLimit(uint32_t burst, uint64_t interval_ns)
        : m_burst(burst), m_tokens(burst), m_interval(interval_ns) {}
    bool allow(uint64_t now);

private:
    uint32_t m_burst, m_tokens;
    uint64_t m_interval;
    uint64_t m_last = 0;
};

// The errno an unreachable code maps to (Linux's icmp_err_convert).
Errno unreachable_errno(uint8_t code);

class Icmp {
public:
    // `transports`: the stack's table by protocol number (entries may be null).
    Icmp(IpOutput& ip, Transport* const* transports) : m_ip(ip), m_transports(transports) {}

    // An ICMP message for this host. `broadcast`: sent to a broadcast or multicast address
    // (RFC 1122 §3.2.2.6: echo requests to those are ignored, as Linux does by default).
    void input(const IncomingPacket& packet, bool broadcast, uint64_t now);
    // Sends an error about `original` (its IPv4 header and payload as received), unless RFC
    // 1122 §3.2.2 forbids it: about an ICMP error, a non-first fragment, a packet to a
    // broadcast or multicast address (`to_broadcast`) or from a source that names no one.
    void send_error(uint8_t type, uint8_t code, std::span<const uint8_t> original,
                    bool to_broadcast, uint64_t now);

    uint64_t messages_in = 0, messages_out = 0, bad = 0, rate_limited = 0;

private:
    void error_input(const IncomingPacket& packet, uint8_t type, uint8_t code);

    IpOutput& m_ip;
    Transport* const* m_transports;
    // Linux's defaults: icmp_msgs_per_sec 1000 with a burst of 50.
    RateLimit m_echo_limit{50, 1'000'000};
    RateLimit m_error_limit{50, 1'000'000};
};

}  // namespace lib::net
