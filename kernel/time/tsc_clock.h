// The arithmetic from TSC ticks to the clocks, shared by the kernel (kernel/time/clock.cc) and
// the vDSO (kernel/vdso/user), so that both compute every clock the same way from the same
// tick count. Header-only and free of kernel dependencies: the vDSO is built as ring-3 code.
#pragma once

#include <cstdint>

namespace kernel::time {

// What the clocks are computed from; fixed at boot by init_clock().
struct TscClock {
    uint64_t tsc_at_boot = 0;
    uint64_t ns_per_tick_q32 = 0;  // nanoseconds per TSC tick, 32.32 fixed point
    uint64_t realtime_at_boot_ns = 0;

    // CLOCK_MONOTONIC (and BOOTTIME, _RAW, _COARSE) at TSC value `tsc`; 0 before calibration.
    uint64_t monotonic_ns(uint64_t tsc) const {
        if (!ns_per_tick_q32) return 0;
        return uint64_t((unsigned __int128)(tsc - tsc_at_boot) * ns_per_tick_q32 >> 32);
    }
    // CLOCK_REALTIME (and _COARSE): the boot-time anchor plus the monotonic clock.
    uint64_t realtime_ns(uint64_t tsc) const { return realtime_at_boot_ns + monotonic_ns(tsc); }
};

}  // namespace kernel::time
