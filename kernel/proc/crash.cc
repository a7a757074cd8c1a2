// Crash reports for the program's deaths by core-dumping signals.
#include "kernel/proc/crash.h"

#include "kernel/arch/x86_64/idt.h"
#include "kernel/console/log.h"
#include "kernel/debug/registers.h"
#include "kernel/proc/process.h"
#include "kernel/time/clock.h"

namespace kernel::proc {

namespace {

const char* const kNames[32] = {
    nullptr,   "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",    "SIGTRAP", "SIGABRT",  "SIGBUS",
    "SIGFPE",  "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",   "SIGPIPE", "SIGALRM",  "SIGTERM",
    "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP",   "SIGTTIN", "SIGTTOU",  "SIGURG",
    "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH",  "SIGIO",   "SIGPWR",   "SIGSYS"};

const char* const kRtNames[33] = {
    "SIGRTMIN",    "SIGRTMIN+1",  "SIGRTMIN+2",  "SIGRTMIN+3",  "SIGRTMIN+4",  "SIGRTMIN+5",
    "SIGRTMIN+6",  "SIGRTMIN+7",  "SIGRTMIN+8",  "SIGRTMIN+9",  "SIGRTMIN+10", "SIGRTMIN+11",
    "SIGRTMIN+12", "SIGRTMIN+13", "SIGRTMIN+14", "SIGRTMIN+15", "SIGRTMIN+16", "SIGRTMIN+17",
    "SIGRTMIN+18", "SIGRTMIN+19", "SIGRTMIN+20", "SIGRTMIN+21", "SIGRTMIN+22", "SIGRTMIN+23",
    "SIGRTMIN+24", "SIGRTMIN+25", "SIGRTMIN+26", "SIGRTMIN+27", "SIGRTMIN+28", "SIGRTMIN+29",
    "SIGRTMIN+30", "SIGRTMIN+31", "SIGRTMAX"};

const char* sender(int code) {
    switch (code) {
        case kSiUser:
            return "kill";
        case kSiTkill:
            return "tkill/tgkill";
        case kSiQueue:
            return "sigqueue";
        case kSiTimer:
            return "a POSIX timer";
        default:
            return "the kernel";
    }
}

[[noreturn]] void report(const arch::TrapFrame& frame, int signal, uint64_t fault_address,
                         const char* cause, const char* cause_detail) {
    uint64_t uptime = time::monotonic_ns();
    kprint("\n*** {} in {} (pid {}) ***\n", signal_name(signal),
           has_current() ? current().exe_path() : "?", has_current() ? current().pid() : 0);
    if (cause)
        kprint("cause: {}{}\n", cause, cause_detail);
    else
        kprint("cause: {} (vector {}, error code {:#x})\n", arch::vector_name(int(frame.vector)),
               frame.vector, frame.error_code);
    kprint("fault address: {:#018x}  instruction pointer: {:#018x}\n", fault_address, frame.rip);
    kprint("uptime: {}.{:06} s\n", uptime / 1000000000, uptime / 1000 % 1000000);
    debug::print_registers(frame);
    // FIXME(#7): symbolized user backtrace from the program's ELF symbols.
    kprint("exit status {} (128 + {})\n", 128 + signal, signal_name(signal));
    exit_program(128 + signal);
}

}  // namespace

const char* signal_name(int signal) {
    if (signal >= 1 && signal < kSigRtMin) return kNames[signal];
    if (signal >= kSigRtMin && signal <= kMaxSignal) return kRtNames[signal - kSigRtMin];
    return "signal";
}

void crash(const arch::TrapFrame& frame, int signal, uint64_t fault_address, const char* cause) {
    report(frame, signal, fault_address, cause, "");
}

void crash_for_signal(const arch::TrapFrame& frame, const SigInfo& info) {
    report(frame, info.signo, 0, "signal sent by ", sender(info.code));
}

void out_of_memory(uint64_t address) {
    kprint("\n*** out of memory: no frame for {:#018x}; killing the program (SIGKILL) ***\n",
           address);
    exit_program(128 + kSigKill);
}

}  // namespace kernel::proc
