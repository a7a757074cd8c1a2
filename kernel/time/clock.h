// Kernel clocks: a TSC-based monotonic clock (the TSC frequency is measured at boot, never
// assumed) and a realtime clock anchored to the hypervisor's wall clock or the CMOS RTC.
#pragma once

#include <cstdint>

namespace kernel::time {

enum class TscSource { Unknown, KvmClock, HypervisorLeaf, CpuidLeaf15, Pit };

void init_clock();

uint64_t monotonic_ns();
uint64_t realtime_ns();
uint64_t tsc_hz();
TscSource tsc_source();
const char* tsc_source_name();

// Busy-waits until monotonic_ns() >= deadline. FIXME(#5): sleep on a timer instead.
void spin_until(uint64_t deadline_ns);

// Days since 1970-01-01 for a civil date (proleptic Gregorian), for the RTC.
int64_t days_from_civil(int64_t year, unsigned month, unsigned day);

}  // namespace kernel::time
