// Register dump in the layout Linux oopses use, three registers per line.
#include "kernel/debug/registers.h"

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/console/log.h"

namespace kernel::debug {

void print_registers(const arch::TrapFrame& f) {
    kprint("RIP: {:04x}:{:016x} RFLAGS: {:08x}\n", f.cs, f.rip, f.rflags);
    kprint("RSP: {:04x}:{:016x}\n", f.ss, f.rsp);
    kprint("RAX: {:016x} RBX: {:016x} RCX: {:016x}\n", f.rax, f.rbx, f.rcx);
    kprint("RDX: {:016x} RSI: {:016x} RDI: {:016x}\n", f.rdx, f.rsi, f.rdi);
    kprint("RBP: {:016x} R08: {:016x} R09: {:016x}\n", f.rbp, f.r8, f.r9);
    kprint("R10: {:016x} R11: {:016x} R12: {:016x}\n", f.r10, f.r11, f.r12);
    kprint("R13: {:016x} R14: {:016x} R15: {:016x}\n", f.r13, f.r14, f.r15);
    kprint("FS base: {:016x} CR2: {:016x} CR3: {:016x}\n", arch::rdmsr(arch::kMsrFsBase),
           arch::read_cr2(), arch::read_cr3());
}

}  // namespace kernel::debug
