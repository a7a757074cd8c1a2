// What poll, ppoll, select, pselect6 and the epoll_wait family share: turning their timeouts
// into monotonic deadlines, and the signal mask the p* forms wait with.
#pragma once

#include <cstdint>

#include "kernel/mm/user_ptr.h"
#include "kernel/sched/scheduler.h"
#include "kernel/sys/linux_types.h"
#include "kernel/time/clock.h"
#include "lib/base/result.h"

namespace kernel::sys {

inline uint64_t deadline_after(uint64_t ns) {
    uint64_t deadline;
    if (__builtin_add_overflow(time::monotonic_ns(), ns, &deadline)) return sched::kForever;
    return deadline;
}

// A millisecond timeout (poll, epoll_wait): negative waits for ever.
inline uint64_t deadline_after_ms(int64_t ms) {
    if (ms < 0) return sched::kForever;
    return deadline_after(uint64_t(ms) * 1'000'000);
}

// A timespec timeout (ppoll, pselect6, epoll_pwait2): none waits for ever; EINVAL when
// negative or not normalized; EFAULT.
inline lib::Result<uint64_t> deadline_after_timespec(mm::UserIn<TimeSpec> timeout) {
    if (timeout.is_null()) return sched::kForever;
    TimeSpec ts;
    TRY(mm::copy_from_user(ts, timeout));
    if (ts.seconds < 0 || ts.nanoseconds < 0 || ts.nanoseconds >= 1'000'000'000)
        return lib::Errno::Inval;
    uint64_t ns;
    if (__builtin_mul_overflow(uint64_t(ts.seconds), 1'000'000'000ull, &ns) ||
        __builtin_add_overflow(ns, uint64_t(ts.nanoseconds), &ns))
        return sched::kForever;
    return deadline_after(ns);
}

// The signal mask of a ppoll, pselect6 or epoll_pwait: in force while the call waits, the
// thread's own mask back when it returns; but when a signal the temporary mask lets in is
// waiting, the temporary mask stays until that signal's handler is set up, which puts the
// thread's own mask in its frame (as sigsuspend does; Linux's restore_saved_sigmask), so the
// handler runs even when the thread's own mask blocks the signal.
class TemporarySigmask {
public:
    TemporarySigmask() = default;
    TemporarySigmask(const TemporarySigmask&) = delete;
    TemporarySigmask& operator=(const TemporarySigmask&) = delete;
    ~TemporarySigmask();
    // Installs *mask (nothing when null); EINVAL when size is not 8, EFAULT.
    lib::ErrorOr set(mm::UserIn<uint64_t> mask, uint64_t size);

private:
    uint64_t m_saved = 0;
    bool m_active = false;
};

}  // namespace kernel::sys
