// The syscalls that make files for waiting on: pipe, pipe2, eventfd, eventfd2 and the timerfd
// family (the files themselves are kernel/fs/pipe, eventfd and timerfd).
#include "kernel/fs/eventfd.h"
#include "kernel/fs/pipe.h"
#include "kernel/fs/timerfd.h"
#include "kernel/mm/heap.h"
#include "kernel/proc/process.h"
#include "kernel/sys/handlers.h"

namespace kernel::sys {

// struct itimerspec.
struct ItimerSpec {
    TimeSpec interval;
    TimeSpec value;
};

namespace {

constexpr int kONonblock = 04000, kOCloexec = 02000000;
constexpr int kClockRealtime = 0, kClockMonotonic = 1, kClockBoottime = 7, kClockRealtimeAlarm = 8,
              kClockBoottimeAlarm = 9;
constexpr int kTfdTimerAbstime = 1, kTfdTimerCancelOnSet = 2;

// Installs a new description (the caller's reference) at the lowest free fd.
SyscallResult install(fs::File* file, bool cloexec) {
    auto fd = proc::current().fds().install(file, 0, cloexec);
    if (fd.is_error()) file->release();
    return TRY(fd);
}

lib::Result<uint64_t> nanoseconds(const TimeSpec& ts) {
    if (ts.seconds < 0 || ts.nanoseconds < 0 || ts.nanoseconds >= 1'000'000'000)
        return lib::Errno::Inval;
    uint64_t ns;
    if (__builtin_mul_overflow(uint64_t(ts.seconds), 1'000'000'000ull, &ns) ||
        __builtin_add_overflow(ns, uint64_t(ts.nanoseconds), &ns))
        return UINT64_MAX;
    return ns;
}

TimeSpec timespec_of(uint64_t ns) {
    return {int64_t(ns / 1'000'000'000), int64_t(ns % 1'000'000'000)};
}

lib::Result<fs::TimerFd*> timerfd_of(int fd) {
    fs::File* file = TRY(proc::current().fds().get(fd));
    fs::TimerFd* timer = file->as_timerfd();
    if (!timer) return lib::Errno::Inval;
    return timer;
}

ItimerSpec itimerspec_of(const fs::TimerFd::Setting& setting) {
    return {timespec_of(setting.interval_ns), timespec_of(setting.value_ns)};
}

}  // namespace

// O_DIRECT (packet mode) is refused: EINVAL, as a kernel without it would.
SyscallResult sys_pipe2(UserOut<int> fds, int flags) {
    if (flags & ~(kONonblock | kOCloexec)) return lib::Errno::Inval;
    fs::PipeEnd *reader, *writer;
    TRY(fs::PipeEnd::create(flags, reader, writer));
    auto& table = proc::current().fds();
    bool cloexec = flags & kOCloexec;
    auto read_fd = table.install(reader, 0, cloexec);
    if (read_fd.is_error()) {
        reader->release();
        writer->release();
        return read_fd.error();
    }
    auto write_fd = table.install(writer, 0, cloexec);
    if (write_fd.is_error()) {
        (void)table.close(read_fd.value());
        writer->release();
        return write_fd.error();
    }
    int pair[2] = {read_fd.value(), write_fd.value()};
    if (auto copied = mm::copy_to_user_bytes(fds.address(), pair, sizeof pair); copied.is_error()) {
        (void)table.close(pair[0]);
        (void)table.close(pair[1]);
        return copied.error();
    }
    return 0;
}

SyscallResult sys_pipe(UserOut<int> fds) { return sys_pipe2(fds, 0); }

SyscallResult sys_eventfd2(uint32_t initial, int flags) {
    constexpr int kKnown = fs::EventFd::kSemaphore | fs::EventFd::kNonblock | fs::EventFd::kCloexec;
    if (flags & ~kKnown) return lib::Errno::Inval;
    auto* file = mm::try_make<fs::EventFd>(initial, flags);
    if (!file) return lib::Errno::NoMem;
    return install(file, flags & fs::EventFd::kCloexec);
}

SyscallResult sys_eventfd(uint32_t initial) { return sys_eventfd2(initial, 0); }

SyscallResult sys_timerfd_create(int clock, int flags) {
    if (flags & ~(fs::TimerFd::kNonblock | fs::TimerFd::kCloexec)) return lib::Errno::Inval;
    bool realtime;
    switch (clock) {
        case kClockRealtime:
        case kClockRealtimeAlarm:  // the alarm clocks: the VM never suspends
            realtime = true;
            break;
        case kClockMonotonic:
        case kClockBoottime:
        case kClockBoottimeAlarm:
            realtime = false;
            break;
        default:
            return lib::Errno::Inval;
    }
    auto* file = mm::try_make<fs::TimerFd>(realtime, flags);
    if (!file) return lib::Errno::NoMem;
    return install(file, flags & fs::TimerFd::kCloexec);
}

SyscallResult sys_timerfd_settime(int fd, int flags, UserIn<ItimerSpec> new_value,
                                  UserOut<ItimerSpec> old_value) {
    if (flags & ~(kTfdTimerAbstime | kTfdTimerCancelOnSet)) return lib::Errno::Inval;
    ItimerSpec spec;
    TRY(mm::copy_from_user(spec, new_value));
    uint64_t value = TRY(nanoseconds(spec.value));
    uint64_t interval = TRY(nanoseconds(spec.interval));
    fs::TimerFd* timer = TRY(timerfd_of(fd));
    // The realtime clock is never set here, so TFD_TIMER_CANCEL_ON_SET never cancels.
    auto old = timer->set(value, interval, flags & kTfdTimerAbstime);
    if (!old_value.is_null()) TRY(mm::copy_to_user(old_value, itimerspec_of(old)));
    return 0;
}

SyscallResult sys_timerfd_gettime(int fd, UserOut<ItimerSpec> current) {
    fs::TimerFd* timer = TRY(timerfd_of(fd));
    TRY(mm::copy_to_user(current, itimerspec_of(timer->get())));
    return 0;
}

}  // namespace kernel::sys
