// One-shot kernel timers on the monotonic clock. Expired timers run their callback from the
// timer interrupt (or the idle loop), with interrupts off: a callback only wakes threads and
// re-arms timers, it never blocks. The earliest deadline programs the APIC timer.
#pragma once

#include <cstdint>

namespace kernel::sched {

class Timer {
public:
    using Callback = void (*)(Timer&);
    // `context`: whatever the callback needs to find its object (context()).
    explicit Timer(Callback callback, void* context = nullptr)
        : m_callback(callback), m_context(context) {}
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;
    ~Timer() { cancel(); }

    // Fires once at monotonic `deadline_ns` (re-arming moves an armed timer).
    void arm(uint64_t deadline_ns);
    void cancel();
    bool armed() const { return m_armed; }
    uint64_t deadline() const { return m_deadline; }
    void* context() const { return m_context; }

private:
    friend void run_expired_timers();
    friend uint64_t next_timer_deadline();
    Callback m_callback;
    void* m_context;
    uint64_t m_deadline = 0;
    Timer* m_next = nullptr;
    bool m_armed = false;
};

// Runs every timer whose deadline has passed (in deadline order).
void run_expired_timers();
// The earliest armed deadline, UINT64_MAX when none.
uint64_t next_timer_deadline();

}  // namespace kernel::sched
