// The kernel's randomness: one ChaCha20 CSPRNG seeded at boot from the CPU (RDSEED/RDRAND)
// and timing jitter. getrandom, AT_RANDOM and layout randomization draw from it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace kernel::random {

void init_random();
// Adds seed material (e.g. from a virtio-rng device or the VMM) to the pool.
void mix(std::span<const std::byte> material);
void fill(std::span<std::byte> out);
uint64_t next_u64();
uint64_t uniform(uint64_t bound);
// Whether a hardware source contributed to the seed.
bool hardware_seeded();

}  // namespace kernel::random
