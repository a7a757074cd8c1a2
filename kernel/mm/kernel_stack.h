// Kernel stacks in their own region, each with an unmapped guard page below it so an overflow
// faults instead of corrupting memory.
#pragma once

#include <cstdint>

namespace kernel::mm {

inline constexpr uint64_t kKernelStackPages = 8;  // 32 KiB

// Returns the top (initial rsp) of a new stack. Panics when out of memory: stacks are
// allocated at boot and per thread, where running out is not recoverable yet.
uint64_t allocate_kernel_stack();

}  // namespace kernel::mm
