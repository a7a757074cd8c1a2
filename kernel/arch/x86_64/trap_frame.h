// The register frame every entry from ring 3 or an exception builds on the kernel stack
// (interrupt_entry.S, syscall_entry.S push it in exactly this order).
#pragma once

#include <cstdint>

namespace kernel::arch {

struct TrapFrame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector;
    uint64_t error_code;
    // Pushed by the CPU on an exception (and built by hand on syscall entry).
    uint64_t rip, cs, rflags, rsp, ss;

    bool from_user() const { return (cs & 3) == 3; }
};

static_assert(sizeof(TrapFrame) == 22 * 8);

// Leaves the kernel for ring 3 with the registers in frame (iretq). Never returns.
extern "C" [[noreturn]] void return_to_user(const TrapFrame* frame);

}  // namespace kernel::arch
