// Crash reports for faults in the program.
#include "kernel/proc/crash.h"

#include "kernel/arch/x86_64/idt.h"
#include "kernel/console/log.h"
#include "kernel/debug/registers.h"
#include "kernel/proc/process.h"
#include "kernel/time/clock.h"

namespace kernel::proc {

const char* signal_name(int signal) {
    switch (signal) {
        case kSigIll:
            return "SIGILL";
        case kSigTrap:
            return "SIGTRAP";
        case kSigAbrt:
            return "SIGABRT";
        case kSigBus:
            return "SIGBUS";
        case kSigFpe:
            return "SIGFPE";
        case kSigKill:
            return "SIGKILL";
        case kSigSegv:
            return "SIGSEGV";
        default:
            return "signal";
    }
}

void crash(const arch::TrapFrame& frame, int signal, uint64_t fault_address) {
    uint64_t uptime = time::monotonic_ns();
    kprint("\n*** {} in {} (pid {}) ***\n", signal_name(signal),
           has_current() ? current().exe_path() : "?", has_current() ? current().pid() : 0);
    kprint("cause: {} (vector {}, error code {:#x})\n",
           arch::vector_name(int(frame.vector)), frame.vector, frame.error_code);
    kprint("fault address: {:#018x}  instruction pointer: {:#018x}\n", fault_address, frame.rip);
    kprint("uptime: {}.{:06} s\n", uptime / 1000000000, uptime / 1000 % 1000000);
    debug::print_registers(frame);
    // FIXME(#7): symbolized user backtrace from the program's ELF symbols.
    kprint("exit status {} (128 + {})\n", 128 + signal, signal_name(signal));
    exit_program(128 + signal);
}

void out_of_memory(uint64_t address) {
    kprint("\n*** out of memory: no frame for {:#018x}; killing the program (SIGKILL) ***\n",
           address);
    exit_program(128 + kSigKill);
}

}  // namespace kernel::proc
