// timerfd on the kernel's one-shot timers (Linux fs/timerfd.c semantics). Deadlines are kept
// on the monotonic clock; an absolute CLOCK_REALTIME time is turned into one when it is set.
#include "kernel/fs/timerfd.h"

#include "kernel/fs/anon_inode.h"
#include "kernel/time/clock.h"

namespace kernel::fs {

namespace {

uint64_t saturating_add(uint64_t a, uint64_t b) {
    uint64_t sum;
    return __builtin_add_overflow(a, b, &sum) ? UINT64_MAX : sum;
}

}  // namespace

TimerFd::TimerFd(bool realtime, int flags)
    : m_realtime(realtime), m_flags(flags), m_timer(expired, this) {}

// Timer callback (interrupts off): counts one expiration and wakes readers and watchers.
void TimerFd::expired(sched::Timer& timer) {
    auto* self = static_cast<TimerFd*>(timer.context());
    self->m_expired = true;
    if (self->m_ticks != UINT64_MAX) ++self->m_ticks;
    self->m_readers.wake_all();
    self->announce(ev::kReadable);
}

void TimerFd::catch_up() {
    if (!m_expired || !m_interval) return;
    m_expired = false;
    uint64_t now = time::monotonic_ns();
    uint64_t last = m_timer.deadline();  // the expiration already counted
    uint64_t missed = now > last ? (now - last) / m_interval : 0;
    m_ticks = saturating_add(m_ticks, missed);
    uint64_t step;
    if (__builtin_mul_overflow(missed + 1, m_interval, &step)) step = UINT64_MAX;
    m_timer.arm(saturating_add(last, step));
}

TimerFd::Setting TimerFd::get() {
    catch_up();
    Setting setting{0, m_interval};
    if (m_timer.armed()) {
        uint64_t now = time::monotonic_ns();
        // Never 0 while armed: 0 would read as "disarmed".
        setting.value_ns = m_timer.deadline() > now ? m_timer.deadline() - now : 1;
    }
    return setting;
}

TimerFd::Setting TimerFd::set(uint64_t value_ns, uint64_t interval_ns, bool absolute) {
    Setting old = get();
    m_timer.cancel();
    m_ticks = 0;
    m_expired = false;
    m_interval = value_ns ? interval_ns : 0;
    if (!value_ns) return old;
    uint64_t now = time::monotonic_ns();
    uint64_t deadline;
    if (!absolute) {
        deadline = saturating_add(now, value_ns);
    } else if (m_realtime) {
        uint64_t real_now = time::realtime_ns();
        deadline = value_ns > real_now ? saturating_add(now, value_ns - real_now) : now;
    } else {
        deadline = value_ns;
    }
    m_timer.arm(deadline);  // a deadline already past fires at the next timer interrupt
    return old;
}

lib::Result<size_t> TimerFd::read(std::span<char> buffer) {
    if (buffer.size() < sizeof(uint64_t)) return lib::Errno::Inval;
    if (!m_ticks) {
        if (m_flags & kNonblock) return lib::Errno::Again;
        auto reason = sched::wait_event(m_readers, sched::kForever, [this] { return m_ticks > 0; });
        if (reason == sched::WakeReason::Interrupted) return lib::Errno::Intr;
    }
    catch_up();
    uint64_t ticks = m_ticks;
    m_ticks = 0;
    __builtin_memcpy(buffer.data(), &ticks, sizeof ticks);
    return sizeof ticks;
}

lib::ErrorOr TimerFd::stat(sys::LinuxStat& out) {
    anon_inode_stat(out);
    return {};
}

}  // namespace kernel::fs
