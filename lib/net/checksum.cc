// The Internet checksum (RFC 1071): a one's-complement sum of 16-bit words.
#include <bit>

#include "lib/net/bytes.h"

namespace lib::net {

uint32_t checksum_add(uint32_t sum, std::span<const uint8_t> data) {
    // RFC 1071 §2(B): the sum does not depend on byte order. Add native 64-bit words with
    // end-around carry (2^64 = 1 mod 2^16 - 1), fold, and swap to network order once at the
    // end: about three instructions per 8 bytes instead of a dozen per 4 (this loop is what
    // the stack spends most instructions on where checksums are not offloaded).
    const uint8_t* p = data.data();
    size_t n = data.size();
    uint64_t acc = 0;
    auto add = [&acc](uint64_t w) {
        acc += w;
        acc += acc < w;
    };
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        __builtin_memcpy(&w, p, 8);
        add(w);
    }
    if (n >= 4) {
        uint32_t w;
        __builtin_memcpy(&w, p, 4);
        add(w);
        p += 4, n -= 4;
    }
    if (n >= 2) {
        uint16_t w;
        __builtin_memcpy(&w, p, 2);
        add(w);
        p += 2, n -= 2;
    }
    if (n) {
        const uint8_t last[2] = {p[0], 0};  // the odd byte, padded with zero (RFC 1071)
        uint16_t w;
        __builtin_memcpy(&w, last, 2);
        add(w);
    }
    acc = (acc & 0xffffffff) + (acc >> 32);
    acc = (acc & 0xffffffff) + (acc >> 32);
    uint16_t folded = checksum_fold(static_cast<uint32_t>(acc));
    if constexpr (std::endian::native == std::endian::little)
        folded = static_cast<uint16_t>(folded << 8 | folded >> 8);
    uint64_t total = uint64_t{sum} + folded;
    return static_cast<uint32_t>((total & 0xffffffff) + (total >> 32));
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
