// syscall/sysret MSR setup (AMD64 APM vol. 2 §6.1.1).
#include "kernel/arch/x86_64/syscall.h"

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/layout.h"

extern "C" void syscall_entry();

namespace kernel::arch {

void init_syscalls() {
    wrmsr(kMsrEfer, rdmsr(kMsrEfer) | kEferSce | kEferNxe);
    // STAR[47:32]: kernel CS (SS = +8). STAR[63:48]: sysret base (SS = +8, CS = +16), RPL 3.
    wrmsr(kMsrStar, uint64_t(kKernelCs) << 32 | uint64_t(0x18 | 3) << 48);
    wrmsr(kMsrLstar, reinterpret_cast<uint64_t>(&syscall_entry));
    // Clear IF, DF, TF, AC and NT on entry.
    wrmsr(kMsrFmask, (1 << 9) | (1 << 10) | (1 << 8) | (1 << 18) | (1 << 14));
}

}  // namespace kernel::arch
