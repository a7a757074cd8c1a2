// The Internet checksum (RFC 1071): a one's-complement sum of 16-bit words.
#include "lib/net/bytes.h"

namespace lib::net {

uint32_t checksum_add(uint32_t sum, std::span<const uint8_t> data) {
    // 64-bit accumulation of 32-bit big-endian words keeps the loop short; folded at the end.
    uint64_t wide = sum;
    size_t i = 0;
    for (; i + 4 <= data.size(); i += 4) wide += load_be32(&data[i]);
    for (; i + 2 <= data.size(); i += 2) wide += load_be16(&data[i]);
    if (i < data.size()) wide += uint32_t{data[i]} << 8;
    while (wide >> 32) wide = (wide & 0xffffffff) + (wide >> 32);
    return static_cast<uint32_t>(wide);
}

uint16_t checksum_fold(uint32_t sum) {
    uint64_t wide = sum;
    while (wide >> 16) wide = (wide & 0xffff) + (wide >> 16);
    return static_cast<uint16_t>(wide);
}

uint32_t pseudo_header_sum(uint32_t source, uint32_t destination, uint8_t protocol,
                           uint16_t length) {
    uint64_t sum = (source >> 16) + (source & 0xffff) + (destination >> 16) +
                   (destination & 0xffff) + protocol + length;
    while (sum >> 32) sum = (sum & 0xffffffff) + (sum >> 32);
    return static_cast<uint32_t>(sum);
}

}  // namespace lib::net
