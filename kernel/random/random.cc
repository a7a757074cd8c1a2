// Boot-time seeding of the kernel CSPRNG.
#include "kernel/random/random.h"

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/cpu_features.h"
#include "lib/crypto/chacha20.h"

namespace kernel::random {

namespace {

lib::crypto::ChaChaRng g_rng;
bool g_hardware_seeded = false;

bool rdseed64(uint64_t& out) {
    for (int i = 0; i < 64; ++i) {
        uint8_t ok;
        asm volatile("rdseed %0; setc %1" : "=r"(out), "=qm"(ok));
        if (ok) return true;
        arch::pause();
    }
    return false;
}

bool rdrand64(uint64_t& out) {
    for (int i = 0; i < 16; ++i) {
        uint8_t ok;
        asm volatile("rdrand %0; setc %1" : "=r"(out), "=qm"(ok));
        if (ok) return true;
    }
    return false;
}

}  // namespace

void init_random() {
    uint64_t pool[16] = {};
    const auto& cpu = arch::cpu();
    int hardware_words = 0;
    for (uint64_t& word : pool) {
        uint64_t value = 0;
        if ((cpu.rdseed && rdseed64(value)) || (cpu.rdrand && rdrand64(value))) {
            word = value;
            ++hardware_words;
        }
    }
    g_hardware_seeded = hardware_words == 16;
    // Timing jitter: cheap, weak alone, but never hurts as extra material.
    for (int i = 0; i < 16; ++i) {
        uint64_t t = arch::rdtsc();
        arch::cpuid(0);  // a VM exit under virtualization: adds jitter
        pool[i] ^= (arch::rdtsc() - t) << 32 ^ t;
    }
    g_rng.mix(std::as_bytes(std::span(pool)));
    for (uint64_t& word : pool) word = 0;
}

void mix(std::span<const std::byte> material) { g_rng.mix(material); }
void fill(std::span<std::byte> out) { g_rng.fill(out); }
uint64_t next_u64() { return g_rng.next_u64(); }
uint64_t uniform(uint64_t bound) { return g_rng.uniform(bound); }
bool hardware_seeded() { return g_hardware_seeded; }

}  // namespace kernel::random
