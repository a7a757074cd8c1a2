// Wait queues: threads sleeping until something changes. Whoever changes what a waiter's
// condition reads calls wake_all() (or wake(n)) after the change. On one CPU with the kernel
// never preempted, checking a condition and then sleeping cannot miss a wakeup.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernel/sched/scheduler.h"

namespace kernel::sched {

class WaitQueue {
public:
    WaitQueue() = default;
    WaitQueue(const WaitQueue&) = delete;
    WaitQueue& operator=(const WaitQueue&) = delete;
    ~WaitQueue();

    // Wakes up to `count` waiters, oldest first; returns how many.
    size_t wake(size_t count);
    size_t wake_all() { return wake(SIZE_MAX); }
    bool empty() const { return m_head == nullptr; }

    // The queue primitives (a thread waits on one queue at a time).
    void add(Thread& thread);
    void remove(Thread& thread);
    Thread* first() const { return m_head; }

private:
    Thread* m_head = nullptr;
    Thread* m_tail = nullptr;
};

// Sleeps on `queue` until woken, `deadline_ns` (monotonic) passes or, if interruptible, a
// signal arrives.
WakeReason sleep_on(WaitQueue& queue, uint64_t deadline_ns, bool interruptible = true);

// Waits until done() holds (checked first and after every wakeup): Woken when it does,
// TimedOut or Interrupted otherwise.
template <typename Done>
WakeReason wait_event(WaitQueue& queue, uint64_t deadline_ns, Done&& done, bool interruptible = true) {
    while (!done()) {
        WakeReason reason = sleep_on(queue, deadline_ns, interruptible);
        if (reason != WakeReason::Woken) return done() ? WakeReason::Woken : reason;
    }
    return WakeReason::Woken;
}

// The one queue every poll, select and epoll_wait sleeps on: any file whose readiness may
// have changed calls notify_readiness() (besides waking its own queue).
WaitQueue& readiness_queue();
inline void notify_readiness() { readiness_queue().wake_all(); }

}  // namespace kernel::sched
