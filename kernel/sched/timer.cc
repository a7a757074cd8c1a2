// The timer list: sorted by deadline, singly linked (few timers are ever armed at once: one
// per sleeping thread plus the program's interval timers).
#include "kernel/sched/timer.h"

#include "kernel/sched/scheduler.h"
#include "kernel/time/clock.h"

namespace kernel::sched {

namespace {

Timer* g_first = nullptr;

}  // namespace

void Timer::arm(uint64_t deadline_ns) {
    cancel();
    m_deadline = deadline_ns;
    m_armed = true;
    Timer** link = &g_first;
    while (*link && (*link)->m_deadline <= deadline_ns) link = &(*link)->m_next;
    m_next = *link;
    *link = this;
    if (g_first == this) reprogram_timer();
}

void Timer::cancel() {
    if (!m_armed) return;
    for (Timer** link = &g_first; *link; link = &(*link)->m_next) {
        if (*link == this) {
            *link = m_next;
            break;
        }
    }
    m_armed = false;
    m_next = nullptr;
}

void run_expired_timers() {
    uint64_t now = time::monotonic_ns();
    while (g_first && g_first->m_deadline <= now) {
        Timer* timer = g_first;
        g_first = timer->m_next;
        timer->m_next = nullptr;
        timer->m_armed = false;
        timer->m_callback(*timer);
    }
}

uint64_t next_timer_deadline() { return g_first ? g_first->m_deadline : UINT64_MAX; }

}  // namespace kernel::sched
