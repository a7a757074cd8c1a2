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

// A CSPRNG with forward secrecy (Bernstein's fast key erasure): each refill computes a few
// keystream blocks, the first 32 bytes of which replace the key at once; the rest is handed
// out from a buffer, each byte wiped as it leaves. A later state compromise reveals neither
// the old key nor anything already handed out. Small requests (the usual ones: layout
// offsets, AT_RANDOM, getrandom of 16 bytes) cost a block only every 224 bytes, which matters
// where ring-0 instructions are emulated.
class ChaChaRng {
public:
    // Mixes seed material into the key (input is hashed through the block function); the
    // buffered output made from the old key is dropped.
    void mix(std::span<const std::byte> material);
    void fill(std::span<std::byte> out);
    uint64_t next_u64();
    // Uniform in [0, bound) without modulo bias; bound > 0.
    uint64_t uniform(uint64_t bound);

private:
    static constexpr size_t kRefillBlocks = 4;
    static constexpr size_t kBufferBytes = kRefillBlocks * 64 - 32;

    void rekey();
    void refill();
    void drop_buffer();

    uint32_t m_key[8] = {};
    uint32_t m_nonce[3] = {};
    uint64_t m_generation = 0;
    uint8_t m_buffer[kBufferBytes] = {};
    size_t m_available = 0;  // unused bytes at the end of m_buffer
};

}  // namespace lib::crypto
