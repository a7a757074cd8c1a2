// Between the pieces of the signal code (signal_delivery.cc, fault_signal.cc): running a
// handler the program installed.
#pragma once

#include "kernel/arch/x86_64/trap_frame.h"
#include "kernel/proc/signal_abi.h"

namespace kernel::sched {
class Thread;
}

namespace kernel::proc {

// The action of `signal` is a handler (not SIG_DFL, not SIG_IGN).
bool has_handler(int signal);
// Builds the frame for `info` and blocks what the handler runs under; a frame that cannot
// be written kills the program with SIGSEGV.
void run_handler(arch::TrapFrame& frame, sched::Thread& self, const SigInfo& info);

}  // namespace kernel::proc
