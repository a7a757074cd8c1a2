// ChaCha20 per RFC 8439 and the ChaChaRng construction.
#include "lib/crypto/chacha20.h"

namespace lib::crypto {

namespace {

constexpr uint32_t rotl(uint32_t v, int n) { return (v << n) | (v >> (32 - n)); }

// Inlined with constant indices so the state stays in registers.
[[gnu::always_inline]] inline void quarter_round(uint32_t* s, int a, int b, int c, int d) {
    s[a] += s[b];
    s[d] = rotl(s[d] ^ s[a], 16);
    s[c] += s[d];
    s[b] = rotl(s[b] ^ s[c], 12);
    s[a] += s[b];
    s[d] = rotl(s[d] ^ s[a], 8);
    s[c] += s[d];
    s[b] = rotl(s[b] ^ s[c], 7);
}

uint32_t load_le32(const uint8_t* p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

}  // namespace

void chacha20_block(const uint32_t key[8], uint32_t counter, const uint32_t nonce[3],
                    uint8_t out[64]) {
    // §2.3: "expand 32-byte k", key, counter, nonce.
    uint32_t state[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};
    for (int i = 0; i < 8; ++i) state[4 + i] = key[i];
    state[12] = counter;
    for (int i = 0; i < 3; ++i) state[13 + i] = nonce[i];
    uint32_t working[16];
    for (int i = 0; i < 16; ++i) working[i] = state[i];
    for (int round = 0; round < 10; ++round) {
        quarter_round(working, 0, 4, 8, 12);
        quarter_round(working, 1, 5, 9, 13);
        quarter_round(working, 2, 6, 10, 14);
        quarter_round(working, 3, 7, 11, 15);
        quarter_round(working, 0, 5, 10, 15);
        quarter_round(working, 1, 6, 11, 12);
        quarter_round(working, 2, 7, 8, 13);
        quarter_round(working, 3, 4, 9, 14);
    }
    for (int i = 0; i < 16; ++i) {
        uint32_t v = working[i] + state[i];
        out[4 * i] = uint8_t(v);
        out[4 * i + 1] = uint8_t(v >> 8);
        out[4 * i + 2] = uint8_t(v >> 16);
        out[4 * i + 3] = uint8_t(v >> 24);
    }
}

void ChaChaRng::mix(std::span<const std::byte> material) {
    // Absorb 32 bytes at a time: XOR into the key, then rekey through the block function.
    size_t offset = 0;
    while (offset < material.size()) {
        uint8_t chunk[32] = {};
        size_t n = material.size() - offset < 32 ? material.size() - offset : 32;
        for (size_t i = 0; i < n; ++i) chunk[i] = uint8_t(material[offset + i]);
        for (int i = 0; i < 8; ++i) m_key[i] ^= load_le32(chunk + 4 * i);
        rekey();
        offset += n;
    }
    drop_buffer();
}

void ChaChaRng::rekey() {
    uint8_t block[64];
    m_nonce[0] = uint32_t(++m_generation);
    m_nonce[1] = uint32_t(m_generation >> 32);
    chacha20_block(m_key, 0, m_nonce, block);
    for (int i = 0; i < 8; ++i) m_key[i] = load_le32(block + 4 * i);
    for (volatile uint8_t& b : block) b = 0;
}

void ChaChaRng::drop_buffer() {
    for (volatile uint8_t& b : m_buffer) b = 0;
    m_available = 0;
}

void ChaChaRng::refill() {
    uint8_t block[64];
    m_nonce[0] = uint32_t(++m_generation);
    m_nonce[1] = uint32_t(m_generation >> 32);
    chacha20_block(m_key, 0, m_nonce, block);
    uint32_t next_key[8];
    for (int i = 0; i < 8; ++i) next_key[i] = load_le32(block + 4 * i);
    for (size_t i = 32; i < 64; ++i) m_buffer[i - 32] = block[i];
    for (uint32_t counter = 1; counter < kRefillBlocks; ++counter)
        chacha20_block(m_key, counter, m_nonce, m_buffer + 32 + (counter - 1) * 64);
    for (int i = 0; i < 8; ++i) m_key[i] = next_key[i];
    for (volatile uint8_t& b : block) b = 0;
    m_available = kBufferBytes;
}

void ChaChaRng::fill(std::span<std::byte> out) {
    if (out.size() <= kBufferBytes) {
        size_t done = 0;
        while (done < out.size()) {
            if (m_available == 0) refill();
            // Hand out from the end of the buffer, wiping each byte.
            while (done < out.size() && m_available > 0) {
                uint8_t& b = m_buffer[--m_available];
                out[done++] = std::byte(b);
                b = 0;
            }
        }
        return;
    }
    // Large requests: a keystream of their own under a fresh nonce, then a new key.
    m_nonce[0] = uint32_t(++m_generation);
    m_nonce[1] = uint32_t(m_generation >> 32);
    uint32_t counter = 1;  // block 0 is reserved for the next key
    size_t offset = 0;
    uint8_t block[64];
    while (offset < out.size()) {
        chacha20_block(m_key, counter++, m_nonce, block);
        size_t n = out.size() - offset < 64 ? out.size() - offset : 64;
        for (size_t i = 0; i < n; ++i) out[offset + i] = std::byte(block[i]);
        offset += n;
        if (counter == 0) {  // 256 GiB in one request: start a new key stream
            rekey();
            counter = 1;
        }
    }
    chacha20_block(m_key, 0, m_nonce, block);
    for (int i = 0; i < 8; ++i) m_key[i] = load_le32(block + 4 * i);
    for (volatile uint8_t& b : block) b = 0;
}

uint64_t ChaChaRng::next_u64() {
    uint64_t value;
    fill(std::as_writable_bytes(std::span<uint64_t>(&value, 1)));
    return value;
}

uint64_t ChaChaRng::uniform(uint64_t bound) {
    // Rejection sampling: draw until below the largest multiple of bound.
    uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
    for (;;) {
        uint64_t v = next_u64();
        if (v < limit) return v % bound;
    }
}

}  // namespace lib::crypto
