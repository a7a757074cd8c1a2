// DHCP messages (RFC 2131 §2, options from RFC 2132): parsing what a server sends and
// building what the client sends. Parsing trusts nothing: every option length is checked
// against the message and against the option's own format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/net/address.h"

namespace lib::net {

inline constexpr uint16_t kDhcpServerPort = 67, kDhcpClientPort = 68;
inline constexpr size_t kDhcpFixedSize = 236;   // op .. file, before the magic cookie
inline constexpr size_t kDhcpMaxMessage = 576;  // RFC 2131 §2: every client accepts this
inline constexpr uint16_t kDhcpFlagBroadcast = 0x8000;

enum class DhcpType : uint8_t {
    None = 0,
    Discover = 1,
    Offer = 2,
    Request = 3,
    Decline = 4,
    Ack = 5,
    Nak = 6,
    Release = 7,
    Inform = 8,
};

struct DhcpMessage {
    uint8_t op = 0;  // 1 BOOTREQUEST, 2 BOOTREPLY
    uint32_t xid = 0;
    uint16_t secs = 0, flags = 0;
    Ipv4Address ciaddr, yiaddr, siaddr, giaddr;
    MacAddress chaddr;
    DhcpType type = DhcpType::None;
    // Options (RFC 2132): zero when absent.
    Ipv4Address server_id;    // 54
    Ipv4Address requested;    // 50
    Ipv4Address subnet_mask;  // 1
    bool has_subnet_mask = false;
    Ipv4Address router;                        // 3 (the first)
    Ipv4Address dns[3];                        // 6
    uint32_t lease_s = 0, t1_s = 0, t2_s = 0;  // 51, 58, 59
    uint16_t mtu = 0;                          // 26
};

// A BOOTREPLY with the magic cookie and a message type; false when malformed.
bool parse_dhcp(std::span<const uint8_t> bytes, DhcpMessage& out);
// A client message (DISCOVER, REQUEST, RELEASE...): fixed part, cookie, type, the
// requested address and server id when set, the parameter request list, the hostname
// when not empty. Returns its size (at most kDhcpMaxMessage), 0 when `out` is too small.
size_t build_dhcp(std::span<uint8_t> out, const DhcpMessage& message,
                  std::span<const char> hostname);

}  // namespace lib::net
