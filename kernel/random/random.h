// The kernel's randomness: one ChaCha20 CSPRNG seeded at boot from the CPU (RDSEED/RDRAND),
// devices (virtio-rng) and timing jitter. getrandom, AT_RANDOM and layout randomization draw
// from it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace kernel::random {

// A source of seed material besides the CPU, e.g. a virtio-rng device. random/ knows sources
// only through this, so drivers depend on it and not the other way round.
class EntropySource {
public:
    virtual const char* name() const = 0;
    // Fills the front of `out` with random bytes; returns how many (0 when the source failed).
    virtual size_t read(std::span<std::byte> out) = 0;

protected:
    ~EntropySource() = default;
};

// Seeds the pool from RDSEED (else RDRAND) where CPUID has them, every source in `devices`
// (null entries skipped), and timing jitter; logs one line naming the sources that contributed.
void init_random(std::span<EntropySource* const> devices = {});
// Adds seed material (e.g. from a virtio-rng device or the VMM) to the pool.
void mix(std::span<const std::byte> material);
void fill(std::span<std::byte> out);
uint64_t next_u64();
uint64_t uniform(uint64_t bound);
// Whether the CPU or a device (not only jitter) contributed to the seed.
bool hardware_seeded();

}  // namespace kernel::random
