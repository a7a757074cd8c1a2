#include "kernel/sched/wait.h"

#include "kernel/debug/panic.h"
#include "kernel/time/clock.h"

namespace kernel::sched {

WaitQueue::~WaitQueue() {
    if (m_head) panic("a wait queue with sleepers was destroyed");
}

void WaitQueue::add(Thread& thread) {
    thread.waiting_on = this;
    thread.wait_next = nullptr;
    thread.wait_prev = m_tail;
    if (m_tail)
        m_tail->wait_next = &thread;
    else
        m_head = &thread;
    m_tail = &thread;
}

void WaitQueue::remove(Thread& thread) {
    if (thread.waiting_on != this) return;
    if (thread.wait_prev)
        thread.wait_prev->wait_next = thread.wait_next;
    else
        m_head = thread.wait_next;
    if (thread.wait_next)
        thread.wait_next->wait_prev = thread.wait_prev;
    else
        m_tail = thread.wait_prev;
    thread.waiting_on = nullptr;
    thread.wait_next = thread.wait_prev = nullptr;
}

size_t WaitQueue::wake(size_t count) {
    size_t woken = 0;
    while (m_head && woken < count) {
        sched::wake(*m_head, WakeReason::Woken);  // takes it off this queue
        ++woken;
    }
    return woken;
}

WakeReason sleep_on(WaitQueue& queue, uint64_t deadline_ns, bool interruptible) {
    Thread& self = current();
    if (interruptible && signal_pending(self)) return WakeReason::Interrupted;
    if (deadline_ns != kForever) {
        if (deadline_ns <= time::monotonic_ns()) return WakeReason::TimedOut;
        self.wake_timer.arm(deadline_ns);
    }
    queue.add(self);
    WakeReason reason = block(interruptible);
    queue.remove(self);  // if something other than a wakeup ended the sleep
    self.wake_timer.cancel();
    return reason;
}

WaitQueue& readiness_queue() {
    static WaitQueue queue;
    return queue;
}

}  // namespace kernel::sched
