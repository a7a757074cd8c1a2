// Kernel stacks in their own region, each with an unmapped guard page below it so an overflow
// faults instead of corrupting memory.
#pragma once

#include <cstdint>

#include "lib/base/result.h"

namespace kernel::mm {

inline constexpr uint64_t kKernelStackPages = 8;  // 32 KiB

// Returns the top (initial rsp) of a new stack. Panics when out of memory: stacks are
// allocated at boot and per thread, where running out is not recoverable yet.
uint64_t allocate_kernel_stack();
// The same for a thread: NoMem instead of a panic.
lib::Result<uint64_t> try_allocate_kernel_stack();
// A thread's stack, no longer in use by anyone (it is reused as it is).
void free_kernel_stack(uint64_t top);

}  // namespace kernel::mm
