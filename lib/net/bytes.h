// Big-endian (network order) loads and stores over byte spans, and the Internet checksum
// (RFC 1071) that IPv4, ICMP, UDP and TCP share. Frames are untrusted: callers check lengths
// before these unchecked accessors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace lib::net {

inline uint16_t load_be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t load_be32(const uint8_t* p) {
    return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
inline void store_be16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}
inline void store_be32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}

// The one's-complement sum of `data` as 16-bit big-endian words (an odd last byte padded
// with zero), added to `sum` and not yet folded. Sums of spans of even length chain.
uint32_t checksum_add(uint32_t sum, std::span<const uint8_t> data);
// Folds a running sum to 16 bits (not complemented).
uint16_t checksum_fold(uint32_t sum);
// The checksum field's value for data whose running sum is `sum`: ~fold(sum).
inline uint16_t checksum_finish(uint32_t sum) { return static_cast<uint16_t>(~checksum_fold(sum)); }
// The TCP/UDP pseudo-header's sum (RFC 9293 §3.1): source, destination, protocol and the
// transport length.
uint32_t pseudo_header_sum(uint32_t source, uint32_t destination, uint8_t protocol,
                           uint16_t length);

}  // namespace lib::net
