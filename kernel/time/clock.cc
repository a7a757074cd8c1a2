// TSC calibration (kvmclock, the hypervisor's TSC leaf, CPUID 0x15, or the PIT as a last
// resort) and the two clocks built on it.
#include "kernel/time/clock.h"

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/cpu_features.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/time/rtc.h"

namespace kernel::time {

namespace {

// KVM paravirtual clock (Documentation/virt/kvm/x86/msr.rst).
constexpr uint32_t kMsrKvmWallClockNew = 0x4b564d00;
constexpr uint32_t kMsrKvmSystemTimeNew = 0x4b564d01;
constexpr uint32_t kKvmFeatureClockSource2 = 1 << 3;

struct PvclockTimeInfo {
    volatile uint32_t version;
    uint32_t pad0;
    volatile uint64_t tsc_timestamp;
    volatile uint64_t system_time;
    volatile uint32_t tsc_to_system_mul;
    volatile int8_t tsc_shift;
    volatile uint8_t flags;
    uint8_t pad[2];
};

struct PvclockWallClock {
    volatile uint32_t version;
    volatile uint32_t sec;
    volatile uint32_t nsec;
};

alignas(64) PvclockTimeInfo g_pvclock;
alignas(64) PvclockWallClock g_wall_clock;

uint64_t g_tsc_hz = 0;
TscClock g_clock;
TscSource g_source = TscSource::Unknown;

bool calibrate_kvmclock(uint64_t& realtime_at_tsc0, uint64_t tsc0) {
    const auto& cpu = arch::cpu();
    if (!cpu.kvm || !(cpu.kvm_features & kKvmFeatureClockSource2)) return false;
    arch::wrmsr(kMsrKvmSystemTimeNew, arch::image_to_phys(&g_pvclock) | 1);
    arch::wrmsr(kMsrKvmWallClockNew, arch::image_to_phys(&g_wall_clock));
    uint32_t mul = g_pvclock.tsc_to_system_mul;
    int8_t shift = g_pvclock.tsc_shift;
    if (mul == 0) return false;
    // Linux's pvclock_tsc_khz, in Hz.
    uint64_t hz = (1000000000ull << 32) / mul;
    hz = shift < 0 ? hz << -shift : hz >> shift;
    g_tsc_hz = hz;
    // Wall clock = wall_clock (at kvmclock zero) + kvmclock system time at tsc0.
    uint64_t delta = tsc0 - g_pvclock.tsc_timestamp;
    delta = shift < 0 ? delta >> -shift : delta << shift;
    uint64_t system_ns =
        g_pvclock.system_time + uint64_t((unsigned __int128)delta * mul >> 32);
    realtime_at_tsc0 =
        uint64_t(g_wall_clock.sec) * 1000000000ull + g_wall_clock.nsec + system_ns;
    arch::wrmsr(kMsrKvmSystemTimeNew, 0);  // we read the TSC directly from now on
    return true;
}

bool calibrate_cpuid() {
    const auto& cpu = arch::cpu();
    if (cpu.hypervisor && cpu.hypervisor_max_leaf >= 0x40000010) {
        uint32_t khz = arch::cpuid(0x40000010).eax;
        if (khz) {
            g_tsc_hz = uint64_t(khz) * 1000;
            g_source = TscSource::HypervisorLeaf;
            return true;
        }
    }
    if (arch::cpuid(0).eax >= 0x15) {
        auto leaf = arch::cpuid(0x15);
        if (leaf.eax && leaf.ebx && leaf.ecx) {
            g_tsc_hz = uint64_t(leaf.ecx) * leaf.ebx / leaf.eax;
            g_source = TscSource::CpuidLeaf15;
            return true;
        }
    }
    return false;
}

// PIT channel 2 one-shot over 10 ms, gated through port 0x61.
void calibrate_pit() {
    constexpr uint32_t kPitHz = 1193182;
    constexpr uint32_t kTicks = kPitHz / 100;
    uint8_t gate = arch::inb(0x61);
    arch::outb(0x61, (gate & ~0x02) | 0x01);  // gate on, speaker off
    arch::outb(0x43, 0xb0);                   // channel 2, lobyte/hibyte, mode 0
    arch::outb(0x42, kTicks & 0xff);
    arch::outb(0x42, kTicks >> 8);
    uint64_t start = arch::rdtsc();
    uint64_t spins = 0;
    while (!(arch::inb(0x61) & 0x20) && ++spins < 100000000) {
    }
    uint64_t elapsed = arch::rdtsc() - start;
    arch::outb(0x61, gate);
    g_tsc_hz = elapsed * 100;
    g_source = TscSource::Pit;
}

}  // namespace

void init_clock(uint64_t tsc_khz_hint) {
    g_clock.tsc_at_boot = arch::rdtsc();
    uint64_t kvm_realtime = 0;
    if (calibrate_kvmclock(kvm_realtime, g_clock.tsc_at_boot)) {
        g_source = TscSource::KvmClock;
        g_clock.realtime_at_boot_ns = kvm_realtime;
    } else {
        if (tsc_khz_hint) {
            g_tsc_hz = tsc_khz_hint * 1000;
            g_source = TscSource::CommandLine;
        } else if (!calibrate_cpuid()) {
            calibrate_pit();
        }
        g_clock.realtime_at_boot_ns = read_rtc_seconds() * 1000000000ull;
    }
    if (g_tsc_hz < 1000000) g_tsc_hz = 1000000;  // a broken measurement must not divide by 0
    g_clock.ns_per_tick_q32 = (1000000000ull << 32) / g_tsc_hz;
}

uint64_t monotonic_ns() { return g_clock.monotonic_ns(arch::rdtsc()); }
uint64_t realtime_ns() { return g_clock.realtime_ns(arch::rdtsc()); }
uint64_t tsc_hz() { return g_tsc_hz; }
TscSource tsc_source() { return g_source; }
const TscClock& tsc_clock() { return g_clock; }

const char* tsc_source_name() {
    switch (g_source) {
        case TscSource::KvmClock:
            return "kvmclock";
        case TscSource::HypervisorLeaf:
            return "cpuid 0x40000010";
        case TscSource::CpuidLeaf15:
            return "cpuid 0x15";
        case TscSource::Pit:
            return "PIT";
        case TscSource::CommandLine:
            return "phx.tsc_khz";
        case TscSource::Unknown:
            break;
    }
    return "unknown";
}

Deadline::Deadline(uint64_t ns, uint64_t min_ticks)
    : m_end_ns(monotonic_ns() + ns), m_start_tsc(arch::rdtsc()), m_min_ticks(min_ticks) {}

bool Deadline::passed() const {
    return monotonic_ns() > m_end_ns && arch::rdtsc() - m_start_tsc > m_min_ticks;
}

void spin_until(uint64_t deadline_ns) {
    while (monotonic_ns() < deadline_ns) arch::pause();
}

int64_t days_from_civil(int64_t year, unsigned month, unsigned day) {
    // Howard Hinnant's algorithm, in terms of March-based years.
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    unsigned year_of_era = unsigned(year - era * 400);
    unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + int64_t(day_of_era) - 719468;
}

}  // namespace kernel::time
