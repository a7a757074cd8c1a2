// Route selection.
#include "lib/net/routing.h"

namespace lib::net {

uint32_t prefix_mask(uint8_t prefix_length) {
    if (prefix_length == 0) return 0;
    if (prefix_length >= 32) return 0xffffffff;
    return ~uint32_t{0} << (32 - prefix_length);
}

Ipv4Address subnet_broadcast(const InterfaceConfig& config) {
    if (config.prefix_length >= 31) return kAnyAddress;
    return Ipv4Address{config.address.value | ~prefix_mask(config.prefix_length)};
}

bool is_broadcast_for(const InterfaceConfig& config, Ipv4Address destination) {
    if (destination.is_broadcast()) return true;
    Ipv4Address directed = subnet_broadcast(config);
    return !directed.is_any() && destination == directed;
}

namespace {
bool on_link(const InterfaceConfig& config, Ipv4Address destination) {
    uint32_t mask = prefix_mask(config.prefix_length);
    return (destination.value & mask) == (config.address.value & mask);
}
}  // namespace

std::optional<Route> select_route(const RouteCandidate* interfaces, size_t count,
                                  Ipv4Address destination) {
    if (destination.is_any()) return std::nullopt;
    if (destination.is_loopback()) return Route{0, destination, kLoopbackAddress, true, false};
    for (size_t i = 0; i < count; ++i) {
        const RouteCandidate& c = interfaces[i];
        if (!c.loopback && c.configured && c.config.address == destination)
            return Route{0, destination, destination, true, false};
    }
    int chosen = -1;
    for (size_t i = 0; i < count && chosen < 0; ++i) {
        const RouteCandidate& c = interfaces[i];
        if (c.loopback || !c.up || !c.configured) continue;
        if (destination.is_broadcast() || destination.is_multicast()) {
            chosen = static_cast<int>(i);
        } else if (on_link(c.config, destination) || is_broadcast_for(c.config, destination)) {
            chosen = static_cast<int>(i);
        }
    }
    if (chosen >= 0) {
        const InterfaceConfig& config = interfaces[chosen].config;
        bool broadcast = is_broadcast_for(config, destination);
        return Route{chosen, destination, config.address, false, broadcast};
    }
    for (size_t i = 0; i < count; ++i) {
        const RouteCandidate& c = interfaces[i];
        if (c.loopback || !c.up || !c.configured || c.config.gateway.is_any()) continue;
        return Route{static_cast<int>(i), c.config.gateway, c.config.address, false, false};
    }
    return std::nullopt;
}

}  // namespace lib::net
