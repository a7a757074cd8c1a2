// futex wakeups for the kernel's own use: thread exit (CLONE_CHILD_CLEARTID, robust lists).
#pragma once

#include <cstddef>
#include <cstdint>

namespace kernel::sys {

// Wakes up to `count` threads waiting on the futex word at user `address` whose bitset
// shares a bit with `bitset`; returns how many.
size_t futex_wake(uint64_t address, size_t count, uint32_t bitset = ~0u);

}  // namespace kernel::sys
