// ChaCha20 against RFC 8439's test vectors, and properties of the CSPRNG built on it.
#include "lib/crypto/chacha20.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <set>

namespace {

TEST(ChaCha20, Rfc8439BlockVector) {
    // RFC 8439 §2.3.2.
    uint32_t key[8];
    for (int i = 0; i < 8; ++i)
        key[i] = uint32_t(4 * i) | uint32_t(4 * i + 1) << 8 | uint32_t(4 * i + 2) << 16 |
                 uint32_t(4 * i + 3) << 24;
    const uint32_t nonce[3] = {0x09000000, 0x4a000000, 0x00000000};
    uint8_t out[64];
    lib::crypto::chacha20_block(key, 1, nonce, out);
    const uint8_t expected[64] = {
        0x10, 0xf1, 0xe7, 0xe4, 0xd1, 0x3b, 0x59, 0x15, 0x50, 0x0f, 0xdd, 0x1f, 0xa3,
        0x20, 0x71, 0xc4, 0xc7, 0xd1, 0xf4, 0xc7, 0x33, 0xc0, 0x68, 0x03, 0x04, 0x22,
        0xaa, 0x9a, 0xc3, 0xd4, 0x6c, 0x4e, 0xd2, 0x82, 0x64, 0x46, 0x07, 0x9f, 0xaa,
        0x09, 0x14, 0xc2, 0xd7, 0x05, 0xd9, 0x8b, 0x02, 0xa2, 0xb5, 0x12, 0x9c, 0xd1,
        0xde, 0x16, 0x4e, 0xb9, 0xcb, 0xd0, 0x83, 0xe8, 0xa2, 0x50, 0x3c, 0x4e};
    EXPECT_EQ(0, std::memcmp(out, expected, 64));
}

TEST(ChaCha20, AllZeroKeyVector) {
    // RFC 8439 §A.1 test vector #1: zero key, zero nonce, counter 0.
    uint32_t key[8] = {};
    uint32_t nonce[3] = {};
    uint8_t out[64];
    lib::crypto::chacha20_block(key, 0, nonce, out);
    const uint8_t head[8] = {0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90};
    EXPECT_EQ(0, std::memcmp(out, head, 8));
}

TEST(ChaChaRng, DifferentSeedsDifferentStreams) {
    lib::crypto::ChaChaRng a, b;
    const char seed_a[] = "seed a", seed_b[] = "seed b";
    a.mix(std::as_bytes(std::span(seed_a)));
    b.mix(std::as_bytes(std::span(seed_b)));
    EXPECT_NE(a.next_u64(), b.next_u64());
}

TEST(ChaChaRng, SameSeedSameStreamAndNoRepeats) {
    lib::crypto::ChaChaRng a, b;
    const char seed[] = "same";
    a.mix(std::as_bytes(std::span(seed)));
    b.mix(std::as_bytes(std::span(seed)));
    std::set<uint64_t> seen;
    for (int i = 0; i < 1000; ++i) {
        uint64_t x = a.next_u64();
        EXPECT_EQ(x, b.next_u64());
        EXPECT_TRUE(seen.insert(x).second);
    }
}

TEST(ChaChaRng, FillCrossesBlocks) {
    lib::crypto::ChaChaRng rng;
    std::array<std::byte, 200> buffer{};
    rng.fill(buffer);
    int zeros = 0;
    for (auto b : buffer) zeros += b == std::byte{0};
    EXPECT_LT(zeros, 10);  // 200 random bytes: ~0.8 zeros expected
}

TEST(ChaChaRng, UniformStaysInBoundsAndCoversRange) {
    lib::crypto::ChaChaRng rng;
    std::array<int, 7> counts{};
    for (int i = 0; i < 7000; ++i) {
        uint64_t v = rng.uniform(7);
        ASSERT_LT(v, 7u);
        ++counts[v];
    }
    for (int c : counts) EXPECT_GT(c, 800);
}

}  // namespace

// Seed material mixed in must reach the very next output, not wait behind buffered bytes.
TEST(ChaChaRng, MixDropsBufferedOutput) {
    lib::crypto::ChaChaRng rng;
    const std::byte seed[4] = {std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
    rng.mix(seed);
    (void)rng.next_u64();  // the buffer now holds the rest of a refill
    lib::crypto::ChaChaRng unmixed = rng;
    const std::byte more[1] = {std::byte{9}};
    rng.mix(more);
    EXPECT_NE(rng.next_u64(), unmixed.next_u64());
}

// Many small draws cross several refills of the buffer; none may repeat.
TEST(ChaChaRng, SmallDrawsAcrossRefillsNeverRepeat) {
    lib::crypto::ChaChaRng rng;
    std::set<uint64_t> seen;
    for (int i = 0; i < 2000; ++i) EXPECT_TRUE(seen.insert(rng.next_u64()).second) << i;
    std::array<std::byte, 1000> large{};  // the unbuffered path in between
    rng.fill(large);
    for (int i = 0; i < 100; ++i) EXPECT_TRUE(seen.insert(rng.next_u64()).second) << i;
}
