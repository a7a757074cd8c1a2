// futex: threads sleep on a user word until another thread wakes that word. Waiters hang on
// one of 64 wait queues chosen by the word's address (one address space: private and shared
// futexes are the same). Checking the word and going to sleep cannot race a wakeup: the kernel
// is never preempted. PI futexes are not offered (ENOSYS); glibc uses them only for
// PTHREAD_PRIO_INHERIT mutexes.
#include "kernel/sys/futex.h"

#include "kernel/sched/wait.h"
#include "kernel/sys/handlers.h"
#include "kernel/time/clock.h"

namespace kernel::sys {

namespace {

constexpr int kFutexWait = 0, kFutexWake = 1, kFutexRequeue = 3, kFutexCmpRequeue = 4,
              kFutexWakeOp = 5, kFutexWaitBitset = 9, kFutexWakeBitset = 10;
constexpr int kFutexPrivate = 128, kFutexClockRealtime = 256;
constexpr uint32_t kBitsetAny = ~0u;

constexpr size_t kBuckets = 64;
sched::WaitQueue g_buckets[kBuckets];

sched::WaitQueue& bucket(uint64_t address) {
    return g_buckets[((address >> 2) * 0x9e37'79b9'7f4a'7c15ull) >> 58];
}

lib::Result<uint32_t> read_word(uint64_t address) {
    uint32_t value;
    TRY(mm::copy_from_user(value, UserIn<uint32_t>(address)));
    return value;
}

// The monotonic deadline of a futex timeout: relative for WAIT, absolute (on the monotonic
// or, with FUTEX_CLOCK_REALTIME, the realtime clock) for WAIT_BITSET.
lib::Result<uint64_t> deadline_for(UserIn<TimeSpec> timeout, bool absolute, bool realtime) {
    if (timeout.is_null()) return sched::kForever;
    TimeSpec ts;
    TRY(mm::copy_from_user(ts, timeout));
    if (ts.seconds < 0 || ts.nanoseconds < 0 || ts.nanoseconds >= 1000000000) return lib::Errno::Inval;
    uint64_t ns;
    if (__builtin_mul_overflow(uint64_t(ts.seconds), 1000000000ull, &ns) ||
        __builtin_add_overflow(ns, uint64_t(ts.nanoseconds), &ns))
        return sched::kForever;
    uint64_t now = time::monotonic_ns();
    if (!absolute) return __builtin_add_overflow(now, ns, &ns) ? sched::kForever : ns;
    if (!realtime) return ns;
    uint64_t real_now = time::realtime_ns();
    return ns > real_now ? now + (ns - real_now) : now;
}

SyscallResult wait(uint64_t address, uint32_t expected, uint64_t deadline, uint32_t bitset) {
    if (bitset == 0) return lib::Errno::Inval;
    if (TRY(read_word(address)) != expected) return lib::Errno::Again;
    sched::Thread& self = sched::current();
    self.futex_address = address;
    self.futex_bitset = bitset;
    switch (sched::sleep_on(bucket(address), deadline)) {
        case sched::WakeReason::Woken:
            return 0;
        case sched::WakeReason::TimedOut:
            return lib::Errno::TimedOut;
        default:
            return lib::Errno::Intr;
    }
}

// Wakes `count` waiters of `from`, then moves up to `limit` more onto `to`.
size_t requeue(uint64_t from, size_t count, uint64_t to, size_t limit) {
    size_t woken = futex_wake(from, count);
    size_t moved = 0;
    sched::WaitQueue& source = bucket(from);
    sched::WaitQueue& target = bucket(to);
    for (sched::Thread* t = source.first(); t && moved < limit;) {
        sched::Thread* next = t->wait_next;
        if (t->futex_address == from) {
            source.remove(*t);
            t->futex_address = to;
            target.add(*t);
            ++moved;
        }
        t = next;
    }
    return woken + moved;
}

// FUTEX_WAKE_OP's operation on the second word, and the comparison that decides whether its
// waiters are woken too (linux/futex.h encoding).
SyscallResult wake_op(uint64_t first, size_t count, uint64_t second, size_t count2, uint32_t encoded) {
    uint32_t op = (encoded >> 28) & 7, cmp = (encoded >> 24) & 15;
    int32_t oparg = int32_t(encoded << 8) >> 20, cmparg = int32_t(encoded << 20) >> 20;
    if ((encoded >> 28) & 8) {
        if (oparg < 0 || oparg > 31) return lib::Errno::Inval;
        oparg = int32_t(1u << oparg);
    }
    uint32_t old = TRY(read_word(second));
    uint32_t value;
    switch (op) {
        case 0: value = uint32_t(oparg); break;
        case 1: value = old + uint32_t(oparg); break;
        case 2: value = old | uint32_t(oparg); break;
        case 3: value = old & ~uint32_t(oparg); break;
        case 4: value = old ^ uint32_t(oparg); break;
        default: return lib::Errno::NoSys;
    }
    TRY(mm::copy_to_user(UserOut<uint32_t>(second), value));
    bool hit;
    int32_t o = int32_t(old);
    switch (cmp) {
        case 0: hit = o == cmparg; break;
        case 1: hit = o != cmparg; break;
        case 2: hit = o < cmparg; break;
        case 3: hit = o <= cmparg; break;
        case 4: hit = o > cmparg; break;
        case 5: hit = o >= cmparg; break;
        default: return lib::Errno::NoSys;
    }
    size_t woken = futex_wake(first, count);
    if (hit) woken += futex_wake(second, count2);
    return int64_t(woken);
}

size_t count_arg(uint32_t value) { return value > INT32_MAX ? INT32_MAX : value; }

}  // namespace

size_t futex_wake(uint64_t address, size_t count, uint32_t bitset) {
    sched::WaitQueue& queue = bucket(address);
    size_t woken = 0;
    for (sched::Thread* t = queue.first(); t && woken < count;) {
        sched::Thread* next = t->wait_next;
        if (t->futex_address == address && (t->futex_bitset & bitset)) {
            sched::wake(*t, sched::WakeReason::Woken);
            ++woken;
        }
        t = next;
    }
    return woken;
}

SyscallResult sys_futex(UserIn<uint32_t> address, int op, uint32_t value, UserIn<TimeSpec> timeout,
                        uint64_t address2, uint32_t value3) {
    uint64_t word = address.address();
    if (word % 4) return lib::Errno::Inval;
    bool realtime = op & kFutexClockRealtime;
    int command = op & ~(kFutexPrivate | kFutexClockRealtime);
    if (realtime && command != kFutexWaitBitset && command != kFutexWait) return lib::Errno::NoSys;
    // The requeue and wake-op commands pass a second count in the timeout argument.
    size_t count2 = count_arg(uint32_t(timeout.address()));
    switch (command) {
        case kFutexWait:
            return wait(word, value, TRY(deadline_for(timeout, false, false)), kBitsetAny);
        case kFutexWaitBitset:
            return wait(word, value, TRY(deadline_for(timeout, true, realtime)), value3);
        case kFutexWake:
            return int64_t(futex_wake(word, count_arg(value)));
        case kFutexWakeBitset:
            if (value3 == 0) return lib::Errno::Inval;
            return int64_t(futex_wake(word, count_arg(value), value3));
        case kFutexCmpRequeue:
            if (TRY(read_word(word)) != value3) return lib::Errno::Again;
            [[fallthrough]];
        case kFutexRequeue:
            if (address2 % 4) return lib::Errno::Inval;
            return int64_t(requeue(word, count_arg(value), address2, count2));
        case kFutexWakeOp:
            if (address2 % 4) return lib::Errno::Inval;
            return wake_op(word, count_arg(value), address2, count2, value3);
        default:
            return lib::Errno::NoSys;
    }
}

}  // namespace kernel::sys
