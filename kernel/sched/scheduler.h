// The scheduler: a run queue of threads taking turns on the CPU (round robin, 10 ms slices
// when more than one is runnable), preempted by the local APIC timer at their return to ring
// 3. The kernel itself is never preempted: it runs with interrupts off and gives up the CPU
// only by blocking, yielding or exiting, so kernel data needs no locks on one CPU. The run
// queue is the CPU's own (RunQueue), so SMP can add one per CPU later.
#pragma once

#include <cstdint>

#include "kernel/sched/thread.h"

namespace kernel::sched {

inline constexpr uint64_t kForever = UINT64_MAX;

// Starts the first thread of the program (prepared with start_with): never returns.
[[noreturn]] void start(Thread& first);
void make_runnable(Thread& thread);
// Ends a blocking of `thread` (a wait queue, its timer, a signal): off its queue, timer
// cancelled, runnable again with `reason`. Nothing when it is not blocked, or when `reason`
// is Interrupted and the thread sleeps uninterruptibly.
void wake(Thread& thread, WakeReason reason);
// The current thread lets the next runnable one go first.
void yield();
// Sleeps until wake(): the caller has put the thread on a wait queue and/or armed its
// wake_timer. An interruptible sleep ends at once (Interrupted) when a signal is pending.
WakeReason block(bool interruptible);
// Sleeps until monotonic `deadline_ns`: TimedOut, or Interrupted by a signal.
WakeReason sleep_until(uint64_t deadline_ns, bool interruptible = true);
// At every return to ring 3: gives up the CPU when the time slice is over.
void preempt_point();
// Everything due before the thread re-enters ring 3 with `frame`: preemption, then signal
// delivery (which may rewrite the frame).
void return_to_user_point(arch::TrapFrame& frame);
// The current thread is gone for good (its memory is freed once another thread runs).
[[noreturn]] void exit_current();
// The APIC timer interrupt.
void timer_interrupt();
// After the earliest timer deadline changed.
void reprogram_timer();
// A signal is waiting for the thread (pending and not blocked).
bool signal_pending(const Thread& thread);

}  // namespace kernel::sched
