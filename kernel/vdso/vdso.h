// The vDSO: a small ELF shared object (kernel/vdso/user) every program gets mapped, with the
// kernel's read-only data page (vvar, kernel/vdso/vvar.h) below it, so that clock_gettime,
// gettimeofday, time, clock_getres and getcpu run in ring 3 without a syscall.
#pragma once

#include <cstdint>

#include "kernel/mm/address_space.h"
#include "lib/base/result.h"

namespace kernel::vdso {

struct Mapping {
    uint64_t base;    // the image's ELF header: AT_SYSINFO_EHDR
    uint64_t bottom;  // the data page, the lowest address of the two areas
};

// Publishes the clock (kernel/time/clock.h) in the data page and maps [vvar][image] so that
// the image ends at or below `top`. Both areas share the kernel's frames (never copied, never
// freed by the address space); the image is read+execute, the data page read-only.
lib::Result<Mapping> map_below(mm::AddressSpace& space, uint64_t top);

}  // namespace kernel::vdso
