// Crash reports for the program's deaths by core-dumping signals.
#include "kernel/proc/crash.h"

#include "kernel/arch/x86_64/idt.h"
#include "kernel/console/log.h"
#include "kernel/debug/registers.h"
#include "kernel/proc/process.h"
#include "kernel/proc/user_backtrace.h"
#include "kernel/time/clock.h"

namespace kernel::proc {

namespace {

const char* const kNames[32] = {
    nullptr,     "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT", "SIGBUS",
    "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",  "SIGPIPE", "SIGALRM", "SIGTERM",
    "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",  "SIGTTIN", "SIGTTOU", "SIGURG",
    "SIGXCPU",   "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS"};

// Real-time signals by number: libc moves SIGRTMIN past the ones it keeps for itself.
const char* const kRtNames[33] = {"SIG32", "SIG33", "SIG34", "SIG35", "SIG36", "SIG37", "SIG38",
                                  "SIG39", "SIG40", "SIG41", "SIG42", "SIG43", "SIG44", "SIG45",
                                  "SIG46", "SIG47", "SIG48", "SIG49", "SIG50", "SIG51", "SIG52",
                                  "SIG53", "SIG54", "SIG55", "SIG56", "SIG57", "SIG58", "SIG59",
                                  "SIG60", "SIG61", "SIG62", "SIG63", "SIG64"};

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
    uint64_t boot = has_current() ? current().boot_number() : 0;
    if (boot)
        kprint("boot {}, uptime: {}.{:06} s\n", boot, uptime / 1000000000, uptime / 1000 % 1000000);
    else
        kprint("boot ?, uptime: {}.{:06} s\n", uptime / 1000000000, uptime / 1000 % 1000000);
    debug::print_registers(frame);
    print_user_backtrace(frame);
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
