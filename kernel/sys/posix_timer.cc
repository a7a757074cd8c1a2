// POSIX timers (timer_create and friends) on CLOCK_REALTIME, CLOCK_MONOTONIC and
// CLOCK_BOOTTIME (the CPU-time clocks approximated by real time, as itimer.cc does), one-shot
// or periodic, relative or TIMER_ABSTIME. Each timer owns its queued signal: an expiry while
// that signal still waits counts an overrun instead of queueing another, and the count
// reaches the program in si_overrun and timer_getoverrun() (kernel/time/posix-timers.c).
#include <new>

#include "kernel/proc/signal_state.h"
#include "kernel/sched/scheduler.h"
#include "kernel/sched/timer.h"
#include "kernel/sys/handlers.h"
#include "kernel/time/clock.h"

namespace kernel::sys {

namespace {

constexpr int kClockRealtime = 0, kClockMonotonic = 1, kClockProcessCputime = 2,
              kClockThreadCputime = 3, kClockBoottime = 7, kClockRealtimeAlarm = 8,
              kClockBoottimeAlarm = 9;
constexpr int kTimerAbstime = 1;
constexpr uint64_t kNsPerSecond = 1'000'000'000;
constexpr uint64_t kMinInterval = 50'000;  // as itimer.cc: no timer storms
constexpr int kMaxTimers = 256;
constexpr int kMaxOverrun = 0x7fffffff;  // DELAYTIMER_MAX

void posix_timer_fired(sched::Timer& timer);
void posix_signal_taken(proc::QueuedSignal& entry, proc::SigInfo& info);

struct PosixTimer {
    explicit PosixTimer(int timer_id) : id(timer_id) {
        signal.on_take = posix_signal_taken;
        signal.owner = this;
    }
    int id;
    bool realtime = false;  // absolute times are CLOCK_REALTIME's
    int notify = proc::kSigevSignal;
    int signo = proc::kSigAlrm;
    uint64_t value = 0;  // sigev_value
    int tid = 0;         // SIGEV_THREAD_ID's thread, else 0: the process
    uint64_t interval = 0;
    int overrun_pending = 0;  // expirations while the signal waited
    int overrun_last = 0;     // of the last signal taken: timer_getoverrun()
    sched::Timer timer{posix_timer_fired, this};
    proc::QueuedSignal signal;
};

PosixTimer* g_timers[kMaxTimers];

uint64_t saturating_add(uint64_t a, uint64_t b) {
    uint64_t sum;
    return __builtin_add_overflow(a, b, &sum) ? sched::kForever : sum;
}

void add_overrun(PosixTimer& timer, uint64_t count) {
    uint64_t total = uint64_t(timer.overrun_pending) + count;
    timer.overrun_pending = total > uint64_t(kMaxOverrun) ? kMaxOverrun : int(total);
}

// Interrupt context.
void posix_timer_fired(sched::Timer& timer) {
    auto& posix = *static_cast<PosixTimer*>(timer.context());
    uint64_t missed = 0;
    if (posix.interval) {
        uint64_t now = time::monotonic_ns();
        uint64_t next = saturating_add(timer.deadline(), posix.interval);
        if (next <= now) {
            missed = (now - next) / posix.interval + 1;
            next = saturating_add(next, missed * posix.interval);
        }
        timer.arm(next);
    }
    if (posix.notify == proc::kSigevNone) return;
    if (posix.signal.queue) {  // the last one still waits
        add_overrun(posix, 1 + missed);
        return;
    }
    posix.overrun_pending = 0;
    add_overrun(posix, missed);
    proc::SigInfo& info = posix.signal.info;
    info = {};
    info.signo = posix.signo;
    info.code = proc::kSiTimer;
    info.timer.id = posix.id;
    info.timer.value = posix.value;
    // A SIGEV_THREAD_ID thread that has exited: the process takes it.
    sched::Thread* target = posix.tid ? sched::thread_by_tid(posix.tid) : nullptr;
    (void)proc::send_owned_signal(target, posix.signal);
}

void posix_signal_taken(proc::QueuedSignal& entry, proc::SigInfo& info) {
    auto& posix = *static_cast<PosixTimer*>(entry.owner);
    info.timer.overrun = posix.overrun_pending;
    posix.overrun_last = posix.overrun_pending;
    posix.overrun_pending = 0;
}

lib::Result<PosixTimer*> timer_by_id(int id) {
    if (id < 0 || id >= kMaxTimers || !g_timers[id]) return lib::Errno::Inval;
    return g_timers[id];
}

lib::Result<uint64_t> to_ns(const TimeSpec& ts) {
    if (ts.seconds < 0 || ts.nanoseconds < 0 || ts.nanoseconds >= int64_t(kNsPerSecond))
        return lib::Errno::Inval;
    uint64_t ns;
    if (__builtin_mul_overflow(uint64_t(ts.seconds), kNsPerSecond, &ns)) return sched::kForever;
    return saturating_add(ns, uint64_t(ts.nanoseconds));
}

TimeSpec to_timespec(uint64_t ns) {
    return {int64_t(ns / kNsPerSecond), int64_t(ns % kNsPerSecond)};
}

// {interval, value}: struct itimerspec.
struct Setting {
    TimeSpec interval, value;
};

Setting current_setting(const PosixTimer& posix) {
    uint64_t left = 0;
    if (posix.timer.armed()) {
        uint64_t now = time::monotonic_ns();
        left = posix.timer.deadline() > now ? posix.timer.deadline() - now : 1;
    }
    return {to_timespec(posix.interval), to_timespec(left)};
}

lib::ErrorOr read_event(UserIn<proc::SigEvent> user, proc::SigEvent& event, int id) {
    if (user.is_null()) {  // SIGEV_SIGNAL with SIGALRM and the timer's id as the value
        event = {};
        event.signo = proc::kSigAlrm;
        event.value = uint64_t(id);
        return {};
    }
    TRY(mm::copy_from_user(event, user));
    switch (event.notify) {
        case proc::kSigevNone:
            return {};
        case proc::kSigevThreadId:
            if (!sched::thread_by_tid(event.tid)) return lib::Errno::Inval;
            [[fallthrough]];
        case proc::kSigevSignal:
        case proc::kSigevThread:  // libc runs the thread: for the kernel it is a signal
            if (event.signo < 1 || event.signo > proc::kMaxSignal) return lib::Errno::Inval;
            return {};
        default:
            return lib::Errno::Inval;
    }
}

}  // namespace

SyscallResult sys_timer_create(int clock, UserIn<proc::SigEvent> user_event,
                               UserOut<int32_t> id_out) {
    switch (clock) {
        case kClockRealtime:
        case kClockMonotonic:
        case kClockProcessCputime:
        case kClockThreadCputime:
        case kClockBoottime:
        case kClockRealtimeAlarm:
        case kClockBoottimeAlarm:
            break;
        default:
            return lib::Errno::Inval;
    }
    int id = 0;
    while (id < kMaxTimers && g_timers[id]) ++id;
    if (id == kMaxTimers) return lib::Errno::Again;
    proc::SigEvent event;
    TRY(read_event(user_event, event, id));
    auto* posix = new (std::nothrow) PosixTimer(id);
    if (!posix) return lib::Errno::Again;
    posix->realtime = clock == kClockRealtime || clock == kClockRealtimeAlarm;
    posix->notify = event.notify == proc::kSigevNone ? proc::kSigevNone : proc::kSigevSignal;
    posix->signo = event.signo;
    posix->value = event.value;
    posix->tid = event.notify == proc::kSigevThreadId ? event.tid : 0;
    if (auto copied = mm::copy_to_user(id_out, int32_t(id)); copied.is_error()) {
        delete posix;
        return copied.error();
    }
    g_timers[id] = posix;
    return 0;
}

SyscallResult sys_timer_settime(int id, int flags, UserIn<TimeSpec> value, UserOut<TimeSpec> old) {
    PosixTimer* posix = TRY(timer_by_id(id));
    TimeSpec wanted[2];
    TRY(mm::copy_array_from_user(wanted, value, 2));
    uint64_t interval = TRY(to_ns(wanted[0]));
    uint64_t first = TRY(to_ns(wanted[1]));
    Setting previous = current_setting(*posix);
    posix->timer.cancel();
    posix->overrun_pending = 0;
    posix->interval = interval && interval < kMinInterval ? kMinInterval : interval;
    if (first) {
        uint64_t now = time::monotonic_ns();
        uint64_t deadline = saturating_add(now, first);
        if (flags & kTimerAbstime) {
            // An absolute time on the timer's clock, as a monotonic deadline (a past one
            // expires at once).
            uint64_t clock_now = posix->realtime ? time::realtime_ns() : now;
            deadline = first > clock_now ? saturating_add(now, first - clock_now) : now;
        }
        posix->timer.arm(deadline);
    }
    if (!old.is_null()) TRY(mm::copy_to_user_bytes(old.address(), &previous, sizeof previous));
    return 0;
}

SyscallResult sys_timer_gettime(int id, UserOut<TimeSpec> value) {
    PosixTimer* posix = TRY(timer_by_id(id));
    Setting setting = current_setting(*posix);
    TRY(mm::copy_to_user_bytes(value.address(), &setting, sizeof setting));
    return 0;
}

SyscallResult sys_timer_getoverrun(int id) { return TRY(timer_by_id(id))->overrun_last; }

SyscallResult sys_timer_delete(int id) {
    PosixTimer* posix = TRY(timer_by_id(id));
    posix->timer.cancel();
    // A signal of the timer still pending goes with it (Linux's sigqueue_free()).
    if (posix->signal.queue) posix->signal.queue->remove(posix->signal);
    g_timers[id] = nullptr;
    delete posix;
    return 0;
}

}  // namespace kernel::sys
