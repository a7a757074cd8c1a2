// ChaCha20 (RFC 8439) block function and a fast-key-erasure CSPRNG built on it, for the
// kernel's randomness (getrandom, AT_RANDOM, /dev/urandom, layout randomization).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace lib::crypto {

// RFC 8439 §2.3: one 64-byte keystream block for key, counter and nonce.
void chacha20_block(const uint32_t key[8], uint32_t counter, const uint32_t nonce[3],
                    uint8_t out[64]);

// A CSPRNG with forward secrecy: after every request the key is replaced by fresh keystream,
// so a later state compromise reveals nothing already handed out (fast key erasure).
class ChaChaRng {
public:
    // Mixes seed material into the key (input is hashed through the block function).
    void mix(std::span<const std::byte> material);
    void fill(std::span<std::byte> out);
    uint64_t next_u64();
    // Uniform in [0, bound) without modulo bias; bound > 0.
    uint64_t uniform(uint64_t bound);

private:
    void rekey();

    uint32_t m_key[8] = {};
    uint32_t m_nonce[3] = {};
    uint64_t m_generation = 0;
};

}  // namespace lib::crypto
