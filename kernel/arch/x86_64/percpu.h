// Per-CPU data, reached through %gs in the kernel. The first fields' offsets are fixed: the
// syscall entry (syscall_entry.S) reads them directly.
#pragma once

#include <cstdint>

namespace kernel::proc {
class Process;
}

namespace kernel::arch {

struct PerCpu {
    PerCpu* self;              // offset 0
    uint64_t kernel_rsp;       // offset 8: top of the current thread's kernel stack
    uint64_t user_rsp;         // offset 16: scratch for the syscall entry
    proc::Process* process;    // the running program
};

static_assert(__builtin_offsetof(PerCpu, kernel_rsp) == 8);
static_assert(__builtin_offsetof(PerCpu, user_rsp) == 16);

PerCpu& this_cpu();

// Sets up GDT, TSS (with IST stacks), GS base and the kernel stack used on entry from ring 3.
void init_cpu_tables();
void set_kernel_stack(uint64_t top);

}  // namespace kernel::arch
