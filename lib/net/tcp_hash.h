// SipHash-2-4 (Aumasson and Bernstein), the keyed hash behind initial sequence numbers
// (RFC 6528), SYN cookies, timestamp offsets and SO_REUSEPORT's spreading: unpredictable to
// an outside host that does not know the key.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lib::net {

struct SipKey {
    uint64_t k0 = 0, k1 = 0;
};

uint64_t siphash24(const SipKey& key, const uint64_t* words, size_t count);

}  // namespace lib::net
