// IPv4 headers (RFC 791 §3.1): validation of what arrives, building what leaves, and the
// gathered transport bytes (header plus up to two payload pieces) that output copies from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/net/address.h"

namespace lib::net {

inline constexpr size_t kIpv4HeaderSize = 20;
inline constexpr size_t kIpv4MaxPacket = 65535;
inline constexpr uint16_t kIpv4FlagDf = 0x4000, kIpv4FlagMf = 0x2000, kIpv4OffsetMask = 0x1fff;

// Why a packet was refused (every reason is counted as ip_bad).
enum class Ipv4Error : uint8_t { None, TooShort, Version, HeaderLength, TotalLength, Checksum };

struct Ipv4Packet {
    Ipv4Address source, destination;
    uint8_t protocol = 0, tos = 0, ttl = 0;
    uint16_t id = 0;
    bool dont_fragment = false, more_fragments = false;
    uint32_t fragment_offset = 0;      // in bytes
    std::span<const uint8_t> header;   // options included (RFC 791: skipped, not interpreted)
    std::span<const uint8_t> payload;  // trimmed to the total length (link padding dropped)
    bool is_fragment() const { return more_fragments || fragment_offset != 0; }
};

// Validates version, IHL, total length against what arrived, and the header checksum.
Ipv4Error parse_ipv4(std::span<const uint8_t> bytes, Ipv4Packet& out);

struct Ipv4HeaderFields {
    Ipv4Address source, destination;
    uint8_t protocol = 0, tos = 0, ttl = 64;
    uint16_t id = 0;
    uint16_t total_length = 0;
    uint16_t flags_offset = 0;  // DF/MF and the offset in 8-byte units
};
// Writes a 20-byte header (no options) with its checksum at `out`.
void write_ipv4_header(uint8_t* out, const Ipv4HeaderFields& fields);

// Up to three byte ranges read as one.
struct Gather {
    std::span<const uint8_t> pieces[3];
    size_t size() const;
    // Copies `count` bytes from logical `offset` to `out`; the range must be within size().
    void copy(size_t offset, uint8_t* out, size_t count) const;
    // The running checksum over all pieces as if contiguous (odd piece lengths handled).
    uint32_t checksum() const;
};

}  // namespace lib::net
