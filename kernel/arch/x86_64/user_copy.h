// Low-level user-memory access primitives. Use kernel/mm/user_ptr.h, not these.
#pragma once

#include <cstdint>

#include "kernel/arch/x86_64/cpu_features.h"
#include "kernel/arch/x86_64/trap_frame.h"

extern "C" int64_t user_copy_raw(void* dst, const void* src, uint64_t count);
extern "C" int64_t user_fill_raw(void* dst, int byte, uint64_t count);

namespace kernel::arch {

// Opens the user half to the kernel for the lifetime of the object (SMAP's STAC/CLAC).
class UserAccessWindow {
public:
    UserAccessWindow() {
        if (cpu().smap) asm volatile("stac" ::: "memory");
    }
    ~UserAccessWindow() {
        if (cpu().smap) asm volatile("clac" ::: "memory");
    }
    UserAccessWindow(const UserAccessWindow&) = delete;
    UserAccessWindow& operator=(const UserAccessWindow&) = delete;
};

// If frame.rip is a user-copy instruction, send it to its fixup and return true.
bool apply_user_copy_fixup(TrapFrame& frame);

}  // namespace kernel::arch
