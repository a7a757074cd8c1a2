// Per-thread signal state: the blocked mask and what is pending for the thread. Kept apart
// from the delivery code (kernel/sys/signal.cc) so the scheduler can ask "is a signal
// waiting?" to end interruptible sleeps.
#pragma once

#include <cstdint>

namespace kernel::arch {
struct TrapFrame;
}

namespace kernel::sched {
class Thread;
}

namespace kernel::proc {

struct ThreadSignals {
    uint64_t blocked = 0;  // bit n-1: signal n
    uint64_t pending = 0;  // sent to this thread
};

// Called on every return to ring 3 (kernel/sys/signal.cc): runs the handler of a pending,
// unblocked signal by building its frame on the user stack and pointing `frame` at it, or
// takes the signal's default action.
void deliver_signals(arch::TrapFrame& frame);

// Sends `signal` from the kernel (SIGPIPE, SIGALRM, a timer's signal...) to `thread`, or to
// the process when nullptr (any thread that does not block it takes it), as kill/tgkill do.
void send_signal(sched::Thread* thread, int signal);

}  // namespace kernel::proc
