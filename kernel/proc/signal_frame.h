// The signal frame on the user stack: built before a handler runs, taken apart again by
// rt_sigreturn (arch/x86/kernel/signal_64.c and fpu/signal.c are the model; the layout is
// signal_abi.h's SigFrame with the FP state above it).
#pragma once

#include <cstdint>

#include "kernel/arch/x86_64/trap_frame.h"
#include "kernel/proc/signal_state.h"
#include "lib/base/result.h"

namespace kernel::sched {
class Thread;
}

namespace kernel::proc {

// Builds the frame for `info` with `action` below the interrupted context in `frame` (or on
// the alternate stack) and points `frame` at the handler. `old_mask` is what rt_sigreturn
// restores. False when the frame cannot be written (bad stack, alternate stack overflow, no
// SA_RESTORER, a handler outside the user half): the caller forces SIGSEGV. `frame` is
// unchanged then; `where` is the address that failed.
bool setup_signal_frame(arch::TrapFrame& frame, sched::Thread& self, const SigInfo& info,
                        const SigAction& action, uint64_t old_mask, uint64_t& where);

// rt_sigreturn: restores registers, flags (the user-modifiable ones only), FP state, mask
// and alternate stack from the frame at frame.rsp - 8. False on a bad frame (nothing
// restored then).
bool restore_signal_frame(arch::TrapFrame& frame, sched::Thread& self);

// sigaltstack's change for a thread at `sp`: EPERM while on the alternate stack, EINVAL for
// unknown flags, ENOMEM below MINSIGSTKSZ.
lib::ErrorOr change_alt_stack(ThreadSignals& signals, const StackT& stack, uint64_t sp);

}  // namespace kernel::proc
