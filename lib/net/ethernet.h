// Ethernet II framing (IEEE 802.3 with an EtherType, RFC 894) and the Link an interface sends
// through: the device, its MAC and the counters InterfaceInfo reports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "lib/net/address.h"
#include "lib/net/stack.h"

namespace lib::net {

inline constexpr size_t kEthernetHeaderSize = 14;
inline constexpr uint16_t kEtherTypeIpv4 = 0x0800, kEtherTypeArp = 0x0806, kEtherTypeVlan = 0x8100,
                          kEtherTypeQinQ = 0x88a8;

struct EthernetHeader {
    MacAddress destination;
    MacAddress source;
    uint16_t type = 0;
};

// The header of `frame`, or nullopt when it is too short for one.
std::optional<EthernetHeader> parse_ethernet(std::span<const uint8_t> frame);
// Writes the 14-byte header at `out`.
void write_ethernet(uint8_t* out, const MacAddress& destination, const MacAddress& source,
                    uint16_t type);
// RFC 1112 §6.4: an IPv4 multicast group's MAC is 01:00:5e and the group's low 23 bits.
MacAddress multicast_mac(Ipv4Address group);

struct LinkCounters {
    uint64_t rx_frames = 0, tx_frames = 0, rx_dropped = 0, tx_dropped = 0, rx_bytes = 0,
             tx_bytes = 0;
};

// One Ethernet device as ARP and IPv4 see it.
struct Link {
    NetDevice* device = nullptr;
    MacAddress mac;
    LinkCounters counters;

    // Hands `frame` to the device; false (counted) when its queue is full.
    bool transmit(std::span<const uint8_t> frame, const TxMeta& meta);
};

}  // namespace lib::net
