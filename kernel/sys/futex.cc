// futex for a program with one thread: wakes find nobody to wake, and a wait either sees a
// changed value (EAGAIN) or sleeps out its timeout. FIXME(#5): real wait queues with threads.
#include "kernel/sys/handlers.h"
#include "kernel/time/clock.h"

namespace kernel::sys {

namespace {

constexpr int kFutexWait = 0, kFutexWake = 1, kFutexRequeue = 3, kFutexCmpRequeue = 4,
              kFutexWakeOp = 5, kFutexWaitBitset = 9, kFutexWakeBitset = 10;
constexpr int kFutexPrivate = 128, kFutexClockRealtime = 256;

}  // namespace

SyscallResult sys_futex(UserIn<uint32_t> address, int op, uint32_t value, UserIn<TimeSpec> timeout,
                        uint64_t, uint32_t) {
    if (address.address() % 4) return lib::Errno::Inval;
    switch (op & ~(kFutexPrivate | kFutexClockRealtime)) {
        case kFutexWake:
        case kFutexWakeBitset:
        case kFutexRequeue:
        case kFutexCmpRequeue:
        case kFutexWakeOp:
            return 0;  // no other thread can be waiting
        case kFutexWait:
        case kFutexWaitBitset: {
            uint32_t current;
            TRY(mm::copy_from_user(current, address));
            if (current != value) return lib::Errno::Again;
            if (timeout.is_null()) return lib::Errno::Deadlock;  // nobody can ever wake us
            TimeSpec ts;
            TRY(mm::copy_from_user(ts, timeout));
            if (ts.seconds < 0 || ts.nanoseconds < 0 || ts.nanoseconds >= 1000000000)
                return lib::Errno::Inval;
            uint64_t ns = uint64_t(ts.seconds) * 1000000000 + uint64_t(ts.nanoseconds);
            uint64_t now = (op & kFutexClockRealtime) ? time::realtime_ns() : time::monotonic_ns();
            // WAIT takes a relative timeout; WAIT_BITSET an absolute one.
            uint64_t wait = (op & 0x7f) == kFutexWait ? ns : (ns > now ? ns - now : 0);
            time::spin_until(time::monotonic_ns() + wait);
            return lib::Errno::TimedOut;
        }
        default:
            return lib::Errno::NoSys;
    }
}

}  // namespace kernel::sys
