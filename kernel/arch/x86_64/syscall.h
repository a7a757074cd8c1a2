// Enables the `syscall` instruction: entry point, segment bases, flag mask.
#pragma once

namespace kernel::arch {

void init_syscalls();

}  // namespace kernel::arch
