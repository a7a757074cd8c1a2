// poll and ppoll. There is one thread and no scheduler yet (issue #5), so waiting means
// checking every descriptor's readiness until one is ready or the timeout passes.
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/proc/process.h"
#include "kernel/sys/handlers.h"
#include "kernel/time/clock.h"

namespace kernel::sys {

namespace {

constexpr uint64_t kMaxPollFds = 1024;  // RLIMIT_NOFILE
constexpr int16_t kAlwaysReported = kPollErr | kPollHup | kPollNval;

// One pass: fills revents, returns how many entries have any. `fds` is kernel memory.
int scan(PollFd* fds, uint64_t count) {
    int ready = 0;
    for (uint64_t i = 0; i < count; ++i) {
        PollFd& entry = fds[i];
        entry.revents = 0;
        if (entry.fd < 0) continue;  // ignored, as Linux does
        auto file = proc::current().fds().get(entry.fd);
        if (file.is_error()) {
            entry.revents = kPollNval;
        } else {
            entry.revents = int16_t(file.value()->poll_events() & (entry.events | kAlwaysReported));
        }
        ready += entry.revents != 0;
    }
    return ready;
}

// timeout_ns: UINT64_MAX for none (wait for ever), 0 to only look.
SyscallResult do_poll(UserOut<PollFd> user, uint64_t count, uint64_t timeout_ns) {
    if (count > kMaxPollFds) return lib::Errno::Inval;
    PollFd fds[64];
    if (count > 64) return lib::Errno::NoMem;  // FIXME(#5): a heap buffer with the scheduler
    for (uint64_t i = 0; i < count; ++i) TRY(mm::copy_from_user(fds[i], UserIn<PollFd>(user.offset(i).address())));
    uint64_t deadline = timeout_ns == UINT64_MAX ? UINT64_MAX : time::monotonic_ns() + timeout_ns;
    int ready = scan(fds, count);
    while (ready == 0 && time::monotonic_ns() < deadline) {
        arch::pause();
        ready = scan(fds, count);
    }
    for (uint64_t i = 0; i < count; ++i) TRY(mm::copy_to_user(user.offset(i), fds[i]));
    return ready;
}

}  // namespace

SyscallResult sys_poll(UserOut<PollFd> fds, uint64_t count, int timeout_ms) {
    uint64_t timeout = timeout_ms < 0 ? UINT64_MAX : uint64_t(timeout_ms) * 1000000;
    return do_poll(fds, count, timeout);
}

SyscallResult sys_ppoll(UserOut<PollFd> fds, uint64_t count, UserIn<TimeSpec> timeout, UserIn<uint64_t>, uint64_t) {
    uint64_t ns = UINT64_MAX;
    if (timeout.address()) {
        TimeSpec ts;
        TRY(mm::copy_from_user(ts, timeout));
        if (ts.seconds < 0 || ts.nanoseconds < 0 || ts.nanoseconds >= 1000000000) return lib::Errno::Inval;
        ns = uint64_t(ts.seconds) * 1000000000 + uint64_t(ts.nanoseconds);
    }
    return do_poll(fds, count, ns);
}

}  // namespace kernel::sys
