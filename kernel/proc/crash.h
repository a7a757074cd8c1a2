// What happens when the program dies of a signal whose default action dumps core (a fault it
// does not handle, abort()...): a crash report on the console, then exit with 128 + signal,
// as Linux's default action plus a shell would report it.
#pragma once

#include <cstdint>

#include "kernel/arch/x86_64/trap_frame.h"
#include "kernel/proc/signal_abi.h"

namespace kernel::proc {

// "SIGSEGV", "SIGRTMIN+3"...; "signal" beyond 64.
const char* signal_name(int signal);

// A fault: the cause is the frame's exception vector unless `cause` says otherwise.
[[noreturn]] void crash(const arch::TrapFrame& frame, int signal, uint64_t fault_address,
                        const char* cause = nullptr);
// A signal sent (kill, tgkill, the kernel) whose default action dumps core; `frame` is
// where the thread that took it was.
[[noreturn]] void crash_for_signal(const arch::TrapFrame& frame, const SigInfo& info);

// The program could not get memory it was entitled to touch (no free frames).
[[noreturn]] void out_of_memory(uint64_t address);

}  // namespace kernel::proc
