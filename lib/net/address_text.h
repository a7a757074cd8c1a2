// IPv4 addresses as text: dotted quads in, dotted quads out (manifest options, logs, tests).
#pragma once

#include <optional>
#include <string_view>

#include "lib/base/format.h"
#include "lib/net/address.h"

namespace lib::net {

// "10.0.2.15": four decimal parts 0-255 without leading zeros beyond "0" itself (no octal
// surprises), nothing else. nullopt otherwise.
std::optional<Ipv4Address> parse_ipv4(std::string_view text);
// A netmask "255.255.255.0" as its prefix length; nullopt for a non-contiguous mask.
std::optional<uint8_t> netmask_prefix(Ipv4Address mask);
// "10.0.2.15".
void format_ipv4(FormatSink& out, Ipv4Address address);

}  // namespace lib::net
