// A thread's x87/SSE/AVX register state, saved when another thread takes the CPU. The kernel
// itself never touches these registers (-mgeneral-regs-only), so a thread's state stays in
// the CPU through its syscalls and interrupts and only a context switch saves it. XSAVE where
// it may be used (cpu().xsave), FXSAVE (x87 and SSE) otherwise.
#pragma once

#include <cstddef>

namespace kernel::arch {

// Bytes of an area (64-byte aligned) that holds the state.
size_t fpu_area_size();
// The state a new program starts with: x87 and MXCSR at their reset values, vectors zero.
void fpu_init_area(void* area);
void fpu_save(void* area);
void fpu_restore(const void* area);

}  // namespace kernel::arch
