// Kernel clocks: a TSC-based monotonic clock (the TSC frequency is measured at boot, never
// assumed) and a realtime clock anchored to the hypervisor's wall clock or the CMOS RTC.
#pragma once

#include <cstdint>

#include "kernel/time/tsc_clock.h"

namespace kernel::time {

enum class TscSource { Unknown, KvmClock, HypervisorLeaf, CpuidLeaf15, Pit, CommandLine };

// `tsc_khz_hint`: the TSC rate the runner measured (`phx.tsc_khz`, QEMU TCG), used when the
// hypervisor offers no kvmclock; 0 when not given.
void init_clock(uint64_t tsc_khz_hint);

uint64_t monotonic_ns();
uint64_t realtime_ns();
uint64_t tsc_hz();
TscSource tsc_source();
const char* tsc_source_name();
// The parameters monotonic_ns() and realtime_ns() compute from, for the vDSO's data page.
const TscClock& tsc_clock();

// A timeout for polling a device: passed once `ns` nanoseconds went by on the clock AND at
// least `min_ticks` TSC ticks elapsed. The floor is there because the clock can run far fast
// when its calibration fell back to the PIT and the PIT gate is missing (QEMU microvm under
// TCG measures a few MHz), which would shrink the wait far below the device's latency.
class Deadline {
public:
    Deadline(uint64_t ns, uint64_t min_ticks);
    bool passed() const;

private:
    uint64_t m_end_ns;
    uint64_t m_start_tsc;
    uint64_t m_min_ticks;
};

// Busy-waits until monotonic_ns() >= deadline. FIXME(#5): sleep on a timer instead.
void spin_until(uint64_t deadline_ns);

// Days since 1970-01-01 for a civil date (proleptic Gregorian), for the RTC.
int64_t days_from_civil(int64_t year, unsigned month, unsigned day);

}  // namespace kernel::time
