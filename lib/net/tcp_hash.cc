// SipHash-2-4 over 64-bit words (tcp_hash.h). The input is always whole words here, so the
// final block carries only the length byte.
#include "lib/net/tcp_hash.h"

namespace lib::net {

namespace {

constexpr uint64_t rotl(uint64_t x, int b) { return x << b | x >> (64 - b); }

struct State {
    uint64_t v0, v1, v2, v3;
    void round() {
        v0 += v1, v1 = rotl(v1, 13), v1 ^= v0, v0 = rotl(v0, 32);
        v2 += v3, v3 = rotl(v3, 16), v3 ^= v2;
        v0 += v3, v3 = rotl(v3, 21), v3 ^= v0;
        v2 += v1, v1 = rotl(v1, 17), v1 ^= v2, v2 = rotl(v2, 32);
    }
    void absorb(uint64_t m) {
        v3 ^= m;
        round();
        round();
        v0 ^= m;
    }
};

}  // namespace

uint64_t siphash24(const SipKey& key, const uint64_t* words, size_t count) {
    State s{key.k0 ^ 0x736f6d6570736575ull, key.k1 ^ 0x646f72616e646f6dull,
            key.k0 ^ 0x6c7967656e657261ull, key.k1 ^ 0x7465646279746573ull};
    for (size_t i = 0; i < count; ++i) s.absorb(words[i]);
    s.absorb(uint64_t(count * 8 & 0xff) << 56);
    s.v2 ^= 0xff;
    for (int i = 0; i < 4; ++i) s.round();
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace lib::net
