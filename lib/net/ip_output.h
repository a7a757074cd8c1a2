// The boundary between IPv4 and the transports above it (TCP, UDP, ICMP's users): how a
// transport sends a packet, learns the route's MTU and source address, and how IPv4 hands it
// what arrived. Checksums are finished in one place: a transport writes the pseudo-header sum
// into its checksum field and says where the field is; the interface either lets the device
// finish it (virtio-net's VIRTIO_NET_F_CSUM) or finishes it in software.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/base/result.h"
#include "lib/net/address.h"

namespace lib::net {

inline constexpr uint8_t kProtocolIcmp = 1, kProtocolTcp = 6, kProtocolUdp = 17;

struct OutgoingPacket {
    Ipv4Address source;       // must be one of ours (source_for())
    Ipv4Address destination;
    uint8_t protocol = 0;
    // The transport header, then its payload in up to two pieces (a ring buffer's two halves),
    // concatenated on the wire in that order.
    std::span<const uint8_t> header;
    std::span<const uint8_t> payload[2];
    // Offset within `header` of the 16-bit checksum field, which holds the pseudo-header sum
    // (not complemented); the sum over header and payload is finished below.
    uint16_t checksum_offset = 0;
    uint8_t tos = 0;
    bool dont_fragment = true;
    uint8_t ttl = 64;
};

struct IncomingPacket {
    Ipv4Address source;
    Ipv4Address destination;  // ours, a broadcast, or multicast
    uint8_t protocol = 0;
    uint8_t tos = 0;
    uint8_t ttl = 0;
    // The device already verified the transport checksum (VIRTIO_NET_HDR_F_DATA_VALID), or
    // the packet came over loopback.
    bool checksum_verified = false;
    std::span<const uint8_t> payload;  // the transport header and data, reassembled
};

class IpOutput {
public:
    // Routes and sends. Errors: NetUnreach (no route), HostUnreach (ARP gave up earlier),
    // MsgSize (larger than the route's MTU with DF set), NoBufs (queue full). A packet held for
    // ARP resolution counts as sent.
    virtual ErrorOr send(const OutgoingPacket& packet) = 0;
    // The MTU of the route to `destination` (the IPv4 packet size; 65535 for loopback); 0 when
    // there is no route.
    virtual uint16_t mtu_to(Ipv4Address destination) = 0;
    // The local address a packet to `destination` leaves from; kAnyAddress when no route (or
    // the interface has no address yet).
    virtual Ipv4Address source_for(Ipv4Address destination) = 0;
    // Whether `address` is one of this host's (an interface's, 127/8, or kAnyAddress).
    virtual bool is_local(Ipv4Address address) = 0;

protected:
    ~IpOutput() = default;
};

// A protocol above IPv4, registered with the stack under its protocol number.
class Transport {
public:
    virtual void input(const IncomingPacket& packet) = 0;
    // An ICMP destination-unreachable or time-exceeded about a packet this host sent:
    // `original` is the offending packet's IPv4 header and as much of its payload as the
    // ICMP message quoted (at least 8 bytes); `error` the errno the ICMP code maps to
    // (ConnRefused for port unreachable, HostUnreach, NetUnreach, MsgSize with `next_mtu`
    // for fragmentation needed).
    virtual void icmp_error(std::span<const uint8_t> original, Errno error, uint16_t next_mtu) {
        (void)original, (void)error, (void)next_mtu;
    }
    // Runs the timers due at `now`; returns the next deadline (kNoDeadline when none).
    virtual uint64_t run_timers(uint64_t now) = 0;
    // The earliest pending deadline without running anything.
    virtual uint64_t next_deadline() const = 0;

protected:
    ~Transport() = default;
};

}  // namespace lib::net
