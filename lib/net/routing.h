// Route selection over the interfaces (RFC 1122 §3.3.1): this host's own addresses and 127/8
// over loopback, the limited broadcast and multicast out of the first configured Ethernet
// interface, an on-link subnet directly, anything else to the first default gateway.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "lib/net/address.h"
#include "lib/net/stack.h"

namespace lib::net {

// What routing needs to know of an interface.
struct RouteCandidate {
    bool loopback = false;
    bool up = false;
    bool configured = false;
    InterfaceConfig config;
};

struct Route {
    int interface = 0;
    Ipv4Address next_hop;  // the neighbour to resolve (unused for loopback and broadcast)
    Ipv4Address source;    // the address the packet leaves from
    bool loopback = false;
    bool broadcast = false;  // limited or the subnet's directed broadcast: ff:ff:ff:ff:ff:ff
};

uint32_t prefix_mask(uint8_t prefix_length);
// The subnet's directed broadcast address; kAnyAddress for /31 and /32, which have none.
Ipv4Address subnet_broadcast(const InterfaceConfig& config);
// Whether `destination` is a broadcast for `config` (limited or directed).
bool is_broadcast_for(const InterfaceConfig& config, Ipv4Address destination);

std::optional<Route> select_route(const RouteCandidate* interfaces, size_t count,
                                  Ipv4Address destination);

}  // namespace lib::net
