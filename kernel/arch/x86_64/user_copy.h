// Low-level user-memory access primitives. Use kernel/mm/user_ptr.h, not these.
#pragma once

#include <cstdint>

#include "kernel/arch/x86_64/cpu_features.h"
#include "kernel/arch/x86_64/trap_frame.h"

extern "C" int64_t user_copy_raw(void* dst, const void* src, uint64_t count);
extern "C" int64_t user_fill_raw(void* dst, int byte, uint64_t count);

namespace kernel::arch {

// Opens the user half to the kernel for the lifetime of the object: SMAP checks are off while
// RFLAGS.AC is set. AC is set with popf rather than STAC: some nested hypervisors fail to run
// STAC/CLAC (an emulation failure that kills the VM), while popf works everywhere.
class UserAccessWindow {
public:
    static constexpr uint64_t kAc = 1ull << 18;
    UserAccessWindow() {
        if (cpu().smap) asm volatile("pushfq; orq %0, (%%rsp); popfq" ::"i"(kAc) : "memory", "cc");
    }
    ~UserAccessWindow() {
        if (cpu().smap)
            asm volatile("pushfq; andq %0, (%%rsp); popfq" ::"i"(~kAc) : "memory", "cc");
    }
    UserAccessWindow(const UserAccessWindow&) = delete;
    UserAccessWindow& operator=(const UserAccessWindow&) = delete;
};

// If frame.rip is a user-copy instruction, send it to its fixup and return true.
bool apply_user_copy_fixup(TrapFrame& frame);

}  // namespace kernel::arch
