// Addresses the stack deals in: IPv4 addresses (host byte order inside), MAC addresses and
// IPv4 endpoints (address and port), with the few predicates every layer needs.
#pragma once

#include <array>
#include <cstdint>

namespace lib::net {

struct Ipv4Address {
    uint32_t value = 0;  // host order: 127.0.0.1 is 0x7f000001

    static constexpr Ipv4Address from(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
        return {uint32_t{a} << 24 | uint32_t{b} << 16 | uint32_t{c} << 8 | d};
    }
    constexpr bool is_any() const { return value == 0; }
    constexpr bool is_broadcast() const { return value == 0xffffffff; }
    constexpr bool is_loopback() const { return value >> 24 == 127; }
    constexpr bool is_multicast() const { return value >> 28 == 0xe; }
    constexpr bool operator==(const Ipv4Address&) const = default;
};

inline constexpr Ipv4Address kAnyAddress{0};
inline constexpr Ipv4Address kLoopbackAddress = Ipv4Address::from(127, 0, 0, 1);
inline constexpr Ipv4Address kBroadcastAddress{0xffffffff};

struct MacAddress {
    std::array<uint8_t, 6> bytes{};

    constexpr bool is_broadcast() const {
        for (uint8_t b : bytes)
            if (b != 0xff) return false;
        return true;
    }
    constexpr bool is_multicast() const { return bytes[0] & 1; }
    constexpr bool operator==(const MacAddress&) const = default;
};

inline constexpr MacAddress kBroadcastMac{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

struct Endpoint {
    Ipv4Address address;
    uint16_t port = 0;  // host order
    constexpr bool operator==(const Endpoint&) const = default;
};

}  // namespace lib::net
