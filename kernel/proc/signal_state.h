// Signal state and the kernel's signal interface. A thread has its blocked mask, what is
// pending for it alone, its alternate stack and the mask sigsuspend will restore; the process
// (kernel/proc/signal_delivery.cc) has the actions and what is pending for any thread. Kept
// apart from the delivery code so the scheduler can ask "is a signal waiting?" to end
// interruptible sleeps.
#pragma once

#include <cstdint>

#include "kernel/proc/signal_abi.h"

namespace kernel::arch {
struct TrapFrame;
}

namespace kernel::sched {
class Thread;
}

namespace kernel::proc {

class PendingSignals;

// One queued instance of a signal. Standard signals (below kSigRtMin) are queued at most once
// per set; real-time ones queue every instance, in order.
struct QueuedSignal {
    SigInfo info{};
    QueuedSignal* next = nullptr;
    PendingSignals* queue = nullptr;  // where it waits, nullptr when it does not
    // Set for an entry that belongs to its sender (a POSIX timer's): called when it is taken,
    // and the entry is never freed by the queue.
    void (*on_take)(QueuedSignal& entry, SigInfo& info) = nullptr;
    void* owner = nullptr;
};

// A set of pending signals: the bitmask plus the queued siginfo of each instance.
class PendingSignals {
public:
    PendingSignals() = default;
    PendingSignals(const PendingSignals&) = delete;
    PendingSignals& operator=(const PendingSignals&) = delete;
    ~PendingSignals() { clear(); }

    uint64_t mask() const { return m_mask; }
    // Queues `info` (a heap entry, or none when the heap is out: the bit alone then stands
    // for a standard signal, which merges with one already pending). False when a real-time
    // signal finds no room (EAGAIN for sigqueue).
    bool add(const SigInfo& info);
    // Queues an entry its owner keeps; false when it was queued already.
    bool add_owned(QueuedSignal& entry);
    // Takes the lowest-numbered signal of `allowed`: its number and siginfo, 0 when none.
    int take(uint64_t allowed, SigInfo& info);
    void remove(QueuedSignal& entry);
    // Drops every instance of `signal` (the action became "ignore").
    void discard(int signal);
    void clear();

private:
    static constexpr int kMaxQueued = 1024;  // per set; RLIMIT_SIGPENDING in spirit
    void append(QueuedSignal& entry);
    uint64_t m_mask = 0;
    QueuedSignal* m_head = nullptr;
    QueuedSignal* m_tail = nullptr;
    int m_count = 0;
};

struct ThreadSignals {
    uint64_t blocked = 0;    // bit n-1: signal n
    PendingSignals pending;  // sent to this thread
    // Signals sigtimedwait waits for (unblocked meanwhile): they are not ignored when sent.
    uint64_t waiting = 0;
    // sigsuspend (and ppoll, pselect6, epoll_pwait): the mask to put back once a handler has
    // run (its frame carries it), or on the way out if none runs. Such a call sets both, sets
    // `blocked` to its temporary mask and sleeps; returning EINTR it leaves them for delivery,
    // returning anything else it puts `blocked` back itself and clears restore_blocked (the
    // temporary mask must not let a signal in then, as on Linux).
    uint64_t saved_blocked = 0;
    bool restore_blocked = false;
    // sigaltstack: size 0 when there is none.
    uint64_t alt_sp = 0;
    uint64_t alt_size = 0;
    uint32_t alt_flags = 0;  // kSsAutodisarm

    bool in_alt_stack(uint64_t sp) const { return sp > alt_sp && sp - alt_sp <= alt_size; }
    // Linux's on_sig_stack(): with SS_AUTODISARM a thread never counts as on it.
    bool on_alt_stack(uint64_t sp) const {
        return !(alt_flags & kSsAutodisarm) && in_alt_stack(sp);
    }
    // Linux's sas_ss_flags(): SS_DISABLE, SS_ONSTACK or 0 for a thread at `sp`.
    int32_t alt_stack_state(uint64_t sp) const {
        if (alt_size == 0) return kSsDisable;
        return on_alt_stack(sp) ? kSsOnstack : 0;
    }
    // ss_flags as sigaltstack and uc_stack report them.
    int32_t alt_stack_flags(uint64_t sp) const { return int32_t(alt_stack_state(sp) | alt_flags); }
};

// A signal is waiting for `thread` (pending for it or the process, and not blocked).
bool signal_deliverable(const sched::Thread& thread);

// Called on every return to ring 3 (kernel/proc/signal_delivery.cc): runs the handler of each
// pending, unblocked signal by building its frame on the user stack and pointing `frame` at
// it, or takes the signal's default action; restarts an interrupted syscall when it should.
void deliver_signals(arch::TrapFrame& frame);

// Sends `signal` from the kernel (SIGPIPE, SIGALRM, a timer's signal...) to `thread`, or to
// the process when nullptr (any thread that does not block it takes it), as kill/tgkill do.
// Safe in interrupt context (timer callbacks).
void send_signal(sched::Thread* thread, int signal);
// The same with the sender's siginfo (kill, sigqueue...). False when a real-time signal
// finds the queue full.
bool send_signal_info(sched::Thread* thread, const SigInfo& info);
// A preallocated entry (a POSIX timer's); false when it is still queued from before.
bool send_owned_signal(sched::Thread* thread, QueuedSignal& entry);

// A synchronous fault in ring 3 (kernel/proc/fault_signal.cc): the handler runs when the
// program installed one and does not block the signal; otherwise the crash report and exit.
void user_fault(arch::TrapFrame& frame, int vector, uint64_t fault_address);
// Raises `info` as a synchronous fault would (a bad rt_sigreturn frame).
void force_fault_signal(arch::TrapFrame& frame, const SigInfo& info);

// The action table (process-wide).
const SigAction& signal_action(int signal);
// Setting an action that ignores a signal discards its pending instances.
void set_signal_action(int signal, const SigAction& action);
// Takes a pending signal of `allowed` for `thread` (its own first, then the process's).
int take_signal(sched::Thread& thread, uint64_t allowed, SigInfo& info);
// Signals pending for `thread` or the process.
uint64_t pending_signals(const sched::Thread& thread);

}  // namespace kernel::proc
