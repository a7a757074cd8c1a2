// The vDSO's data page (vvar): what the kernel publishes for the vDSO's clock functions. The
// kernel writes it (kernel/vdso/vdso.cc); programs see it read-only, one page below the vDSO
// image, and the vDSO reads it there (kernel/vdso/user). Both sides include this header.
#pragma once

#include <cstdint>

#include "kernel/time/tsc_clock.h"

namespace kernel::vdso {

inline constexpr uint64_t kVvarSize = 4096;

// How the vDSO may read the clocks. Anything but Tsc sends every call to the syscall.
enum class VclockMode : uint32_t { None = 0, Tsc = 1 };

// A sequence counter guards the fields (a seqlock): odd while the kernel rewrites them, so a
// reader that saw it odd, or saw it change, reads again. The kernel writes the clock once per
// program start today; the counter keeps a kernel that updates it at run time (settimeofday,
// another CPU) correct.
struct VvarData {
    volatile uint32_t seq;
    volatile VclockMode mode;
    volatile uint64_t tsc_at_boot;
    volatile uint64_t ns_per_tick_q32;
    volatile uint64_t realtime_at_boot_ns;
};

// The whole page, so that nothing else of the kernel's shares the frame programs can read.
union alignas(kVvarSize) VvarPage {
    VvarData data;
    unsigned char bytes[kVvarSize];
};
static_assert(sizeof(VvarPage) == kVvarSize);

}  // namespace kernel::vdso
