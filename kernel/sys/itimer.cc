// setitimer, getitimer, alarm: the process's three interval timers, each a kernel timer whose
// expiry sends its signal to the process. ITIMER_VIRTUAL and ITIMER_PROF count the process's
// CPU time on Linux; Phoenix approximates both by real time (its one program is the only
// thing the CPU runs). FIXME(#5): CPU-time accounting per thread.
#include "kernel/proc/signal_state.h"
#include "kernel/sched/scheduler.h"
#include "kernel/sys/handlers.h"
#include "kernel/time/clock.h"

namespace kernel::sys {

namespace {

constexpr uint64_t kNsPerSecond = 1'000'000'000, kNsPerUs = 1000;
// Shorter periods are raised to this: a timer storm must not starve the program.
constexpr uint64_t kMinInterval = 50 * kNsPerUs;

void interval_timer_fired(sched::Timer& timer);

struct IntervalTimer {
    explicit IntervalTimer(int signal_number) : signal(signal_number) {}
    int signal;
    uint64_t interval = 0;
    sched::Timer timer{interval_timer_fired, this};
};

IntervalTimer g_itimers[3] = {IntervalTimer(proc::kSigAlrm), IntervalTimer(proc::kSigVtalrm),
                              IntervalTimer(proc::kSigProf)};

uint64_t saturating_add(uint64_t a, uint64_t b) {
    uint64_t sum;
    return __builtin_add_overflow(a, b, &sum) ? sched::kForever : sum;
}

// Interrupt context: send, and re-arm a periodic timer at its next period still ahead
// (periods missed while the CPU was elsewhere are skipped, as Linux's hrtimer_forward).
void interval_timer_fired(sched::Timer& timer) {
    auto& itimer = *static_cast<IntervalTimer*>(timer.context());
    proc::send_signal(nullptr, itimer.signal);
    if (!itimer.interval) return;
    uint64_t now = time::monotonic_ns();
    uint64_t next = saturating_add(timer.deadline(), itimer.interval);
    if (next <= now)
        next = saturating_add(next, ((now - next) / itimer.interval + 1) * itimer.interval);
    timer.arm(next);
}

lib::Result<uint64_t> to_ns(const TimeVal& tv) {
    if (tv.seconds < 0 || tv.microseconds < 0 || tv.microseconds >= 1'000'000)
        return lib::Errno::Inval;
    uint64_t ns;
    if (__builtin_mul_overflow(uint64_t(tv.seconds), kNsPerSecond, &ns)) return sched::kForever;
    return saturating_add(ns, uint64_t(tv.microseconds) * kNsPerUs);
}

TimeVal to_timeval(uint64_t ns) {
    return {int64_t(ns / kNsPerSecond), int64_t(ns % kNsPerSecond / kNsPerUs)};
}

// {interval, value} as struct itimerval has them.
struct Setting {
    TimeVal interval, value;
};

Setting current_setting(const IntervalTimer& itimer) {
    uint64_t left = 0;
    if (itimer.timer.armed()) {
        uint64_t now = time::monotonic_ns();
        left = itimer.timer.deadline() > now ? itimer.timer.deadline() - now : 0;
        if (left < kNsPerUs) left = kNsPerUs;  // armed: never reported as disarmed
    }
    return {to_timeval(itimer.interval), to_timeval(left)};
}

void apply(IntervalTimer& itimer, uint64_t value_ns, uint64_t interval_ns) {
    itimer.interval = interval_ns && interval_ns < kMinInterval ? kMinInterval : interval_ns;
    if (value_ns == 0)
        itimer.timer.cancel();
    else
        itimer.timer.arm(saturating_add(time::monotonic_ns(), value_ns));
}

lib::Result<IntervalTimer*> itimer_for(int which) {
    if (which < 0 || which > 2) return lib::Errno::Inval;
    return &g_itimers[which];
}

}  // namespace

SyscallResult sys_setitimer(int which, UserIn<TimeVal> value, UserOut<TimeVal> old) {
    IntervalTimer* itimer = TRY(itimer_for(which));
    TimeVal wanted[2] = {};  // a null value disarms, as Linux still allows
    if (!value.is_null()) TRY(mm::copy_array_from_user(wanted, value, 2));
    uint64_t interval = TRY(to_ns(wanted[0]));
    uint64_t first = TRY(to_ns(wanted[1]));
    Setting previous = current_setting(*itimer);
    apply(*itimer, first, interval);
    if (!old.is_null()) TRY(mm::copy_to_user_bytes(old.address(), &previous, sizeof previous));
    return 0;
}

SyscallResult sys_getitimer(int which, UserOut<TimeVal> value) {
    IntervalTimer* itimer = TRY(itimer_for(which));
    Setting setting = current_setting(*itimer);
    TRY(mm::copy_to_user_bytes(value.address(), &setting, sizeof setting));
    return 0;
}

SyscallResult sys_alarm(uint32_t seconds) {
    IntervalTimer& real = g_itimers[0];
    TimeVal left = current_setting(real).value;
    apply(real, uint64_t(seconds) * kNsPerSecond, 0);
    // What was left, in whole seconds rounded to nearest, never 0 for a pending alarm.
    int64_t result = left.seconds;
    if ((result == 0 && left.microseconds) || left.microseconds >= 500'000) ++result;
    return result;
}

}  // namespace kernel::sys
