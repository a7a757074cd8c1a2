// Boot-time seeding of the kernel CSPRNG from the CPU, devices and jitter.
#include "kernel/random/random.h"

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/cpu_features.h"
#include "kernel/console/log.h"
#include "lib/base/format.h"
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

// Up to 16 words from RDSEED (the conditioner's output, meant for seeding), else RDRAND.
struct CpuSeed {
    int rdseed_words = 0;
    int rdrand_words = 0;
};

CpuSeed seed_from_cpu(uint64_t (&pool)[16]) {
    const auto& cpu = arch::cpu();
    CpuSeed seed;
    for (uint64_t& word : pool) {
        uint64_t value = 0;
        if (cpu.rdseed && rdseed64(value)) {
            ++seed.rdseed_words;
        } else if (cpu.rdrand && rdrand64(value)) {
            ++seed.rdrand_words;
        } else {
            continue;
        }
        word = value;
    }
    return seed;
}

// Timing jitter: cheap, weak alone, but never hurts as extra material.
void add_jitter(uint64_t (&pool)[16]) {
    for (uint64_t& word : pool) {
        uint64_t t = arch::rdtsc();
        arch::cpuid(0);  // a VM exit under virtualization: adds jitter
        word ^= (arch::rdtsc() - t) << 32 ^ t;
    }
}

// "rdseed, virtio-rng": the names of the sources that contributed, for the log.
class SourceNames {
public:
    void add(const char* name) {
        lib::format_to(m_sink, m_sink.view().empty() ? "{}" : ", {}", name);
    }
    std::string_view view() const { return m_sink.view(); }

private:
    char m_buffer[96];
    lib::BufferSink m_sink{m_buffer, sizeof(m_buffer)};
};

}  // namespace

// Device bytes are folded (XORed) into the CPU pool, which is then mixed once: the sources are
// independent, so the fold loses nothing, and every 32 bytes mixed costs a ChaCha block, which
// is milliseconds of boot on slow nested hosts.
void init_random(std::span<EntropySource* const> devices) {
    constexpr size_t kDeviceSeedWords = 8;  // 64 bytes
    constexpr size_t kFullSeedBytes = 32;
    uint64_t pool[16] = {};
    SourceNames names;
    CpuSeed cpu = seed_from_cpu(pool);
    if (cpu.rdseed_words) names.add("rdseed");
    if (cpu.rdrand_words) names.add("rdrand");
    g_hardware_seeded = cpu.rdseed_words + cpu.rdrand_words == 16;

    size_t next_word = 0;
    for (EntropySource* device : devices) {
        if (!device) continue;
        uint64_t material[kDeviceSeedWords] = {};
        size_t got = device->read(std::as_writable_bytes(std::span(material)));
        if (got == 0) continue;
        for (uint64_t word : material) pool[next_word++ % 16] ^= word;
        for (volatile uint64_t& word : material) word = 0;
        names.add(device->name());
        g_hardware_seeded = g_hardware_seeded || got >= kFullSeedBytes;
    }

    add_jitter(pool);
    g_rng.mix(std::as_bytes(std::span(pool)));
    for (volatile uint64_t& word : pool) word = 0;
    if (names.view().empty())
        klog("random: seeded from timing jitter only (no RDSEED, RDRAND or device)");
    else
        klog("random: seeded from {}", names.view());
}

void mix(std::span<const std::byte> material) { g_rng.mix(material); }
void fill(std::span<std::byte> out) { g_rng.fill(out); }
uint64_t next_u64() { return g_rng.next_u64(); }
uint64_t uniform(uint64_t bound) { return g_rng.uniform(bound); }
bool hardware_seeded() { return g_hardware_seeded; }

}  // namespace kernel::random
