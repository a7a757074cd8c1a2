// poll, ppoll, select and pselect6: look at every descriptor, and while none is ready sleep on
// the readiness queue, which every file's announce() wakes, until the timeout. A polled file
// (the console) bounds each sleep so that it is looked at again soon (fs::PolledBackoff).
#include "kernel/fs/file.h"
#include "kernel/mm/heap.h"
#include "kernel/proc/process.h"
#include "kernel/proc/signal_abi.h"
#include "kernel/sched/thread.h"
#include "kernel/sched/wait.h"
#include "kernel/sys/handlers.h"
#include "kernel/sys/readiness_wait.h"

namespace kernel::sys {

namespace {

namespace ev = fs::ev;

constexpr uint64_t kMaxPollFds = proc::FdTable::kMaxFds;  // RLIMIT_NOFILE
constexpr int kStackPollFds = 32;

// How one wait went: something ready, the deadline, or a signal.
enum class Outcome { Ready, TimedOut, Interrupted };

// Scans until `scan(polled)` finds something ready (it sets `polled` when a file it looked at
// cannot announce changes), the deadline passes or a signal arrives.
template <typename Scan>
Outcome wait_until_ready(uint64_t deadline, Scan&& scan) {
    fs::PolledBackoff backoff;
    for (;;) {
        bool polled = false;
        if (scan(polled)) return Outcome::Ready;
        uint64_t now = time::monotonic_ns();
        if (deadline <= now) return Outcome::TimedOut;
        uint64_t wake = polled ? backoff.next(now, deadline) : deadline;
        if (sched::sleep_on(sched::readiness_queue(), wake) == sched::WakeReason::Interrupted)
            return Outcome::Interrupted;
    }
}

// One pass: fills revents, returns how many entries have any. `fds` is kernel memory.
int scan_pollfds(PollFd* fds, uint64_t count, bool& polled) {
    auto& table = proc::current().fds();
    int ready = 0;
    for (uint64_t i = 0; i < count; ++i) {
        PollFd& entry = fds[i];
        entry.revents = 0;
        if (entry.fd < 0) continue;  // ignored, as Linux does
        auto file = table.get(entry.fd);
        if (file.is_error()) {
            entry.revents = kPollNval;
        } else {
            uint32_t wanted = uint16_t(entry.events) | ev::kErr | ev::kHup;
            entry.revents = int16_t(file.value()->poll_events() & wanted);
            polled |= file.value()->polled();
        }
        ready += entry.revents != 0;
    }
    return ready;
}

SyscallResult do_poll(UserOut<PollFd> user, uint64_t count, uint64_t deadline) {
    if (count > kMaxPollFds) return lib::Errno::Inval;
    PollFd on_stack[kStackPollFds];
    PollFd* fds = on_stack;
    if (count > kStackPollFds) {
        fds = static_cast<PollFd*>(mm::kmalloc(count * sizeof(PollFd)));
        if (!fds) return lib::Errno::NoMem;
    }
    auto result = [&]() -> SyscallResult {
        TRY(mm::copy_array_from_user(fds, UserIn<PollFd>(user.address()), count));
        int ready = 0;
        Outcome outcome = wait_until_ready(deadline, [&](bool& polled) {
            ready = scan_pollfds(fds, count, polled);
            return ready > 0;
        });
        TRY(mm::copy_to_user_bytes(user.address(), fds, count * sizeof(PollFd)));
        if (outcome == Outcome::Interrupted) return lib::Errno::Intr;
        return ready;
    }();
    if (fds != on_stack) mm::kfree(fds);
    return result;
}

// What ppoll and pselect6 write back: the time left (Linux does, for a timeout that was not 0;
// glibc's wrappers hide it).
void write_back_timespec(UserIn<TimeSpec> timeout, uint64_t deadline) {
    if (timeout.is_null() || deadline == sched::kForever) return;
    TimeSpec given;
    if (mm::copy_from_user(given, timeout).is_error() || (!given.seconds && !given.nanoseconds))
        return;
    uint64_t now = time::monotonic_ns();
    uint64_t left = deadline > now ? deadline - now : 0;
    TimeSpec rest{int64_t(left / 1'000'000'000), int64_t(left % 1'000'000'000)};
    (void)mm::copy_to_user_bytes(timeout.address(), &rest, sizeof rest);
}

// select's fd_sets: up to FdTable::kMaxFds bits each, as 64-bit words.
constexpr int kSetWords = proc::FdTable::kMaxFds / 64;
struct FdSets {
    uint64_t in[kSetWords], out[kSetWords], ex[kSetWords];
};

constexpr uint32_t kPollinSet = ev::kRdNorm | ev::kRdBand | ev::kIn | ev::kHup | ev::kErr;
constexpr uint32_t kPolloutSet = ev::kWrBand | ev::kWrNorm | ev::kOut | ev::kErr;
constexpr uint32_t kPollexSet = ev::kPri;

// One pass over the fds named in `want`; the ready ones go to `got`. Returns the number of
// bits set in `got`.
int scan_fd_sets(const FdSets& want, FdSets& got, int words, bool& polled) {
    auto& table = proc::current().fds();
    int ready = 0;
    got = {};
    for (int w = 0; w < words; ++w) {
        for (uint64_t bits = want.in[w] | want.out[w] | want.ex[w]; bits; bits &= bits - 1) {
            int bit = __builtin_ctzll(bits);
            uint64_t one = 1ull << bit;
            fs::File* file = table.get(w * 64 + bit).value();  // checked before the first pass
            uint32_t events = file->poll_events();
            polled |= file->polled();
            if ((want.in[w] & one) && (events & kPollinSet)) got.in[w] |= one, ++ready;
            if ((want.out[w] & one) && (events & kPolloutSet)) got.out[w] |= one, ++ready;
            if ((want.ex[w] & one) && (events & kPollexSet)) got.ex[w] |= one, ++ready;
        }
    }
    return ready;
}

SyscallResult do_select(int nfds, uint64_t in, uint64_t out, uint64_t ex, uint64_t deadline) {
    if (nfds < 0) return lib::Errno::Inval;
    if (nfds > proc::FdTable::kMaxFds) nfds = proc::FdTable::kMaxFds;  // as Linux, to max_fds
    int words = (nfds + 63) / 64;
    size_t bytes = size_t(words) * 8;
    FdSets want{};
    if (in) TRY(mm::copy_from_user_bytes(want.in, in, bytes));
    if (out) TRY(mm::copy_from_user_bytes(want.out, out, bytes));
    if (ex) TRY(mm::copy_from_user_bytes(want.ex, ex, bytes));
    if (nfds % 64) {
        uint64_t keep = (1ull << (nfds % 64)) - 1;
        want.in[words - 1] &= keep, want.out[words - 1] &= keep, want.ex[words - 1] &= keep;
    }
    auto& table = proc::current().fds();
    for (int w = 0; w < words; ++w)
        for (uint64_t bits = want.in[w] | want.out[w] | want.ex[w]; bits; bits &= bits - 1)
            TRY(table.get(w * 64 + __builtin_ctzll(bits)));  // EBADF
    FdSets got;
    int ready = 0;
    Outcome outcome = wait_until_ready(deadline, [&](bool& polled) {
        ready = scan_fd_sets(want, got, words, polled);
        return ready > 0;
    });
    if (outcome == Outcome::Interrupted) return lib::Errno::Intr;
    if (in) TRY(mm::copy_to_user_bytes(in, got.in, bytes));
    if (out) TRY(mm::copy_to_user_bytes(out, got.out, bytes));
    if (ex) TRY(mm::copy_to_user_bytes(ex, got.ex, bytes));
    return ready;
}

}  // namespace

// pselect6's sixth argument.
struct SigmaskArgument {
    uint64_t mask;  // const sigset_t*
    uint64_t size;
};

TemporarySigmask::~TemporarySigmask() {
    if (!m_active) return;
    sched::Thread& self = sched::current();
    if (sched::signal_pending(self)) {
        self.signals.saved_blocked = m_saved;  // back after delivery (kernel/proc/signal_delivery)
        self.signals.restore_blocked = true;
    } else {
        self.signals.blocked = m_saved;
    }
}

lib::ErrorOr TemporarySigmask::set(UserIn<uint64_t> mask, uint64_t size) {
    if (mask.is_null()) return {};
    if (size != sizeof(uint64_t)) return lib::Errno::Inval;
    uint64_t value;
    TRY(mm::copy_from_user(value, mask));
    auto& signals = sched::current().signals;
    m_saved = signals.blocked;
    m_active = true;
    signals.blocked = value & ~proc::kUnblockable;
    return {};
}

SyscallResult sys_poll(UserOut<PollFd> fds, uint64_t count, int timeout_ms) {
    return do_poll(fds, count, deadline_after_ms(timeout_ms));
}

SyscallResult sys_ppoll(UserOut<PollFd> fds, uint64_t count, UserIn<TimeSpec> timeout,
                        UserIn<uint64_t> sigmask, uint64_t sigset_size) {
    uint64_t deadline = TRY(deadline_after_timespec(timeout));
    TemporarySigmask mask;
    TRY(mask.set(sigmask, sigset_size));
    auto result = do_poll(fds, count, deadline);
    write_back_timespec(timeout, deadline);
    return result;
}

SyscallResult sys_select(int nfds, UserOut<uint64_t> in, UserOut<uint64_t> out,
                         UserOut<uint64_t> ex, UserOut<TimeVal> timeout) {
    uint64_t deadline = sched::kForever;
    TimeVal given{};
    if (!timeout.is_null()) {
        TRY(mm::copy_from_user(given, UserIn<TimeVal>(timeout.address())));
        if (given.seconds < 0 || given.microseconds < 0) return lib::Errno::Inval;
        uint64_t ns, us_ns;  // microseconds past a second carry over, as on Linux
        if (__builtin_mul_overflow(uint64_t(given.seconds), 1'000'000'000ull, &ns) ||
            __builtin_mul_overflow(uint64_t(given.microseconds), 1000ull, &us_ns) ||
            __builtin_add_overflow(ns, us_ns, &ns))
            ns = sched::kForever;
        deadline = deadline_after(ns);
    }
    auto result = do_select(nfds, in.address(), out.address(), ex.address(), deadline);
    if (!timeout.is_null() && deadline != sched::kForever &&
        (given.seconds || given.microseconds)) {
        uint64_t now = time::monotonic_ns();
        uint64_t left = deadline > now ? deadline - now : 0;
        TimeVal rest{int64_t(left / 1'000'000'000), int64_t(left % 1'000'000'000 / 1000)};
        (void)mm::copy_to_user(timeout, rest);
    }
    return result;
}

SyscallResult sys_pselect6(int nfds, UserOut<uint64_t> in, UserOut<uint64_t> out,
                           UserOut<uint64_t> ex, UserIn<TimeSpec> timeout,
                           UserIn<SigmaskArgument> sigmask) {
    uint64_t deadline = TRY(deadline_after_timespec(timeout));
    TemporarySigmask mask;
    if (!sigmask.is_null()) {
        SigmaskArgument argument;
        TRY(mm::copy_from_user(argument, sigmask));
        TRY(mask.set(UserIn<uint64_t>(argument.mask), argument.size));
    }
    auto result = do_select(nfds, in.address(), out.address(), ex.address(), deadline);
    write_back_timespec(timeout, deadline);
    return result;
}

}  // namespace kernel::sys
