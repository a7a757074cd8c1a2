// Clock and sleep syscalls over kernel/time/clock.h.
#include "kernel/sched/scheduler.h"
#include "kernel/sys/handlers.h"
#include "kernel/time/clock.h"

namespace kernel::sys {

namespace {

// Clock ids (linux/time.h).
constexpr int kClockRealtime = 0;
constexpr int kClockMonotonic = 1;
constexpr int kClockProcessCputime = 2;
constexpr int kClockThreadCputime = 3;
constexpr int kClockMonotonicRaw = 4;
constexpr int kClockRealtimeCoarse = 5;
constexpr int kClockMonotonicCoarse = 6;
constexpr int kClockBoottime = 7;
constexpr int kTimerAbstime = 1;
constexpr int64_t kNsPerSecond = 1000000000;

lib::Result<uint64_t> read_clock(int clock) {
    switch (clock) {
        case kClockRealtime:
        case kClockRealtimeCoarse:
            return time::realtime_ns();
        case kClockMonotonic:
        case kClockMonotonicRaw:
        case kClockMonotonicCoarse:
        case kClockBoottime:
        // One process that is always running: its CPU time is close to its uptime.
        // FIXME(#5): account CPU time per thread once the scheduler exists.
        case kClockProcessCputime:
        case kClockThreadCputime:
            return time::monotonic_ns();
        default:
            return lib::Errno::Inval;
    }
}

TimeSpec to_timespec(uint64_t ns) { return {int64_t(ns / kNsPerSecond), int64_t(ns % kNsPerSecond)}; }

lib::Result<uint64_t> from_timespec(const TimeSpec& ts) {
    if (ts.seconds < 0 || ts.nanoseconds < 0 || ts.nanoseconds >= kNsPerSecond)
        return lib::Errno::Inval;
    uint64_t ns;
    if (__builtin_mul_overflow(uint64_t(ts.seconds), uint64_t(kNsPerSecond), &ns) ||
        __builtin_add_overflow(ns, uint64_t(ts.nanoseconds), &ns))
        return ~uint64_t(0);  // effectively forever
    return ns;
}

}  // namespace

SyscallResult sys_clock_gettime(int clock, UserOut<TimeSpec> out) {
    uint64_t ns = TRY(read_clock(clock));
    TRY(mm::copy_to_user(out, to_timespec(ns)));
    return 0;
}

SyscallResult sys_clock_getres(int clock, UserOut<TimeSpec> out) {
    TRY(read_clock(clock));
    if (!out.is_null()) TRY(mm::copy_to_user(out, TimeSpec{0, 1}));
    return 0;
}

SyscallResult sys_gettimeofday(UserOut<TimeVal> tv, uint64_t) {
    if (!tv.is_null()) {
        uint64_t ns = time::realtime_ns();
        TRY(mm::copy_to_user(tv, TimeVal{int64_t(ns / kNsPerSecond),
                                         int64_t(ns % kNsPerSecond / 1000)}));
    }
    return 0;
}

SyscallResult sys_time(UserOut<int64_t> out) {
    int64_t seconds = int64_t(time::realtime_ns() / kNsPerSecond);
    if (!out.is_null()) TRY(mm::copy_to_user(out, seconds));
    return seconds;
}

SyscallResult sys_clock_nanosleep(int clock, int flags, UserIn<TimeSpec> request,
                                  UserOut<TimeSpec> remaining) {
    if (clock == kClockThreadCputime) return lib::Errno::Inval;
    uint64_t now = TRY(read_clock(clock));
    TimeSpec ts;
    TRY(mm::copy_from_user(ts, request));
    uint64_t amount = TRY(from_timespec(ts));
    uint64_t wait = amount;
    if (flags & kTimerAbstime) wait = amount > now ? amount - now : 0;
    uint64_t deadline;
    if (__builtin_add_overflow(time::monotonic_ns(), wait, &deadline)) deadline = ~uint64_t(0);
    if (sched::sleep_until(deadline) != sched::WakeReason::Interrupted) return 0;
    // A signal handler runs first; a relative sleep reports what was left of it.
    if (!(flags & kTimerAbstime) && !remaining.is_null()) {
        uint64_t now_ns = time::monotonic_ns();
        uint64_t left = deadline > now_ns ? deadline - now_ns : 0;
        TimeSpec rest{int64_t(left / 1000000000), int64_t(left % 1000000000)};
        TRY(mm::copy_to_user(remaining, rest));
    }
    return lib::Errno::Intr;
}

SyscallResult sys_nanosleep(UserIn<TimeSpec> request, UserOut<TimeSpec> remaining) {
    return sys_clock_nanosleep(kClockMonotonic, 0, request, remaining);
}

}  // namespace kernel::sys
