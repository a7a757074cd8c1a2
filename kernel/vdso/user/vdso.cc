// The vDSO's code: ring-3 functions every program finds through AT_SYSINFO_EHDR (glibc, musl
// and Go look them up as __vdso_* at version LINUX_2.6). Clocks are computed from RDTSC and
// the kernel's data page (vvar) with the kernel's own arithmetic (kernel/time/tsc_clock.h);
// whatever cannot be served here (CPU-time clocks, unknown ids, a data page that says no)
// goes to the real syscall, whose result is returned unchanged: 0 or -errno, as Linux's vDSO
// returns them. Built freestanding as its own shared object: no libc, no relocations, no
// writable data (kernel/vdso/vdso.cmake).
#include "kernel/vdso/vvar.h"

namespace {

using kernel::vdso::VclockMode;
using kernel::vdso::VvarData;

// Linux's clock ids (linux/time.h) and syscall numbers (x86-64).
constexpr int kClockRealtime = 0;
constexpr int kClockMonotonic = 1;
constexpr int kClockMonotonicRaw = 4;
constexpr int kClockRealtimeCoarse = 5;
constexpr int kClockMonotonicCoarse = 6;
constexpr int kClockBoottime = 7;
constexpr long kSysGettimeofday = 96;
constexpr long kSysTime = 201;
constexpr long kSysClockGettime = 228;
constexpr long kSysClockGetres = 229;
constexpr uint64_t kNsPerSecond = 1000000000;

struct TimeSpec {
    int64_t seconds;
    int64_t nanoseconds;
};

struct TimeVal {
    int64_t seconds;
    int64_t microseconds;
};

}  // namespace

// The data page, one page below the image: placed by the linker script, so the reference is
// RIP-relative and needs no relocation.
extern "C" const VvarData vvar_data __attribute__((visibility("hidden")));

namespace {

long syscall2(long number, long a, long b) {
    long result;
    asm volatile("syscall" : "=a"(result) : "0"(number), "D"(a), "S"(b) : "rcx", "r11", "memory");
    return result;
}

void barrier() { asm volatile("" ::: "memory"); }

// LFENCE keeps RDTSC from running ahead of the loads before it (the sequence counter).
uint64_t rdtsc_ordered() {
    uint32_t lo, hi;
    asm volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return uint64_t(hi) << 32 | lo;
}

enum class Clock { Monotonic, Realtime };

// Reads a clock the way the kernel's monotonic_ns()/realtime_ns() do. False when the data
// page says the vDSO must not (the caller then makes the syscall).
bool read_ns(Clock clock, uint64_t& ns) {
    const VvarData& vvar = vvar_data;
    for (;;) {
        uint32_t seq = vvar.seq;
        if (seq & 1) {  // the kernel is rewriting the page
            asm volatile("pause");
            continue;
        }
        barrier();
        if (vvar.mode != VclockMode::Tsc) return false;
        kernel::time::TscClock params;
        params.tsc_at_boot = vvar.tsc_at_boot;
        params.ns_per_tick_q32 = vvar.ns_per_tick_q32;
        params.realtime_at_boot_ns = vvar.realtime_at_boot_ns;
        uint64_t tsc = rdtsc_ordered();
        barrier();
        if (vvar.seq != seq) continue;
        ns = clock == Clock::Monotonic ? params.monotonic_ns(tsc) : params.realtime_ns(tsc);
        return true;
    }
}

// The clocks kernel/sys/time.cc computes from the TSC; nothing else is served here.
bool served_clock(int id, Clock& clock) {
    switch (id) {
        case kClockRealtime:
        case kClockRealtimeCoarse:
            clock = Clock::Realtime;
            return true;
        case kClockMonotonic:
        case kClockMonotonicRaw:
        case kClockMonotonicCoarse:
        case kClockBoottime:
            clock = Clock::Monotonic;
            return true;
        default:
            return false;
    }
}

}  // namespace

#define VDSO_EXPORT extern "C" __attribute__((visibility("default")))

VDSO_EXPORT int __vdso_clock_gettime(int id, TimeSpec* ts) {
    Clock clock;
    uint64_t ns;
    if (!served_clock(id, clock) || !read_ns(clock, ns))
        return int(syscall2(kSysClockGettime, id, long(ts)));
    ts->seconds = int64_t(ns / kNsPerSecond);
    ts->nanoseconds = int64_t(ns % kNsPerSecond);
    return 0;
}

VDSO_EXPORT int __vdso_gettimeofday(TimeVal* tv, void* tz) {
    uint64_t ns;
    // The time zone is the syscall's to fill (the vDSO keeps no copy of it).
    if (tz || !read_ns(Clock::Realtime, ns))
        return int(syscall2(kSysGettimeofday, long(tv), long(tz)));
    if (tv) {
        tv->seconds = int64_t(ns / kNsPerSecond);
        tv->microseconds = int64_t(ns % kNsPerSecond / 1000);
    }
    return 0;
}

VDSO_EXPORT int64_t __vdso_time(int64_t* out) {
    uint64_t ns;
    if (!read_ns(Clock::Realtime, ns)) return syscall2(kSysTime, long(out), 0);
    int64_t seconds = int64_t(ns / kNsPerSecond);
    if (out) *out = seconds;
    return seconds;
}

VDSO_EXPORT int __vdso_clock_getres(int id, TimeSpec* res) {
    Clock clock;
    if (!served_clock(id, clock)) return int(syscall2(kSysClockGetres, id, long(res)));
    if (res) *res = {0, 1};  // what the syscall reports: the TSC resolves nanoseconds
    return 0;
}

// One CPU, one node. FIXME(#5): with SMP, the CPU number from RDPID/TSC_AUX.
VDSO_EXPORT int __vdso_getcpu(unsigned* cpu, unsigned* node, void*) {
    if (cpu) *cpu = 0;
    if (node) *node = 0;
    return 0;
}

// The unprefixed names Linux's vDSO also exports.
VDSO_EXPORT int clock_gettime(int, TimeSpec*) __attribute__((weak, alias("__vdso_clock_gettime")));
VDSO_EXPORT int gettimeofday(TimeVal*, void*) __attribute__((weak, alias("__vdso_gettimeofday")));
VDSO_EXPORT int64_t time(int64_t*) __attribute__((weak, alias("__vdso_time")));
VDSO_EXPORT int clock_getres(int, TimeSpec*) __attribute__((weak, alias("__vdso_clock_getres")));
VDSO_EXPORT int getcpu(unsigned*, unsigned*, void*) __attribute__((weak, alias("__vdso_getcpu")));
