// Signal syscalls: actions (process-wide), masks (per thread), sending to the program's own
// process and threads, waiting for signals, the alternate stack, rt_sigreturn and signalfd.
// Routing and delivery live in kernel/proc/signal_delivery.cc, the frame in signal_frame.cc.
#include <new>

#include "kernel/arch/x86_64/trap_frame.h"
#include "kernel/fs/signalfd.h"
#include "kernel/proc/process.h"
#include "kernel/proc/signal_frame.h"
#include "kernel/proc/signal_state.h"
#include "kernel/sched/scheduler.h"
#include "kernel/sys/handlers.h"
#include "kernel/time/clock.h"

namespace kernel::sys {

namespace {

using proc::SigInfo;

constexpr int kSigBlock = 0, kSigUnblock = 1, kSigSetMask = 2;
constexpr uint64_t kSigsetSize = 8;
constexpr int kSfdNonblock = 04000, kSfdCloexec = 02000000;

bool valid_signal(int signal) { return signal >= 1 && signal <= proc::kMaxSignal; }

lib::Result<uint64_t> read_sigset(UserIn<uint64_t> set) {
    uint64_t value;
    TRY(mm::copy_from_user(value, set));
    return value;
}

SigInfo sender_info(int signal, int code) {
    SigInfo info{};
    info.signo = signal;
    info.code = code;
    info.sender.pid = proc::current().pid();
    info.sender.uid = 0;
    return info;
}

// `target` nullptr: the process. Signal 0 only checks that the target exists.
SyscallResult send(sched::Thread* target, const SigInfo& info) {
    if (info.signo == 0) return 0;
    if (!proc::send_signal_info(target, info)) return lib::Errno::Again;
    return 0;
}

lib::Result<sched::Thread*> thread_of_ours(int tgid, int tid) {
    if (tid <= 0 || tgid == 0 || tgid < -1) return lib::Errno::Inval;
    if (tgid != -1 && tgid != proc::current().pid()) return lib::Errno::Srch;
    sched::Thread* thread = sched::thread_by_tid(tid);
    if (!thread) return lib::Errno::Srch;
    return thread;
}

// Sleeps until a signal the thread does not block is pending.
void wait_for_signal(sched::Thread& self) {
    while (!proc::signal_deliverable(self)) sched::block(true);
}

}  // namespace

SyscallResult sys_rt_sigaction(int signal, UserIn<SigAction> action, UserOut<SigAction> old,
                               uint64_t mask_size) {
    if (!valid_signal(signal) || mask_size != kSigsetSize) return lib::Errno::Inval;
    if (!action.is_null() && (signal == proc::kSigKill || signal == proc::kSigStop))
        return lib::Errno::Inval;
    proc::SigAction previous = proc::signal_action(signal);
    if (!action.is_null()) {
        SigAction wanted;
        TRY(mm::copy_from_user(wanted, action));
        proc::set_signal_action(signal,
                                {wanted.handler, wanted.flags, wanted.restorer, wanted.mask});
    }
    if (!old.is_null())
        TRY(mm::copy_to_user(
            old, SigAction{previous.handler, previous.flags, previous.restorer, previous.mask}));
    return 0;
}

SyscallResult sys_rt_sigprocmask(int how, UserIn<uint64_t> set, UserOut<uint64_t> old,
                                 uint64_t mask_size) {
    if (mask_size != kSigsetSize) return lib::Errno::Inval;
    uint64_t& blocked = sched::current().signals.blocked;
    uint64_t previous = blocked;
    if (!set.is_null()) {
        uint64_t value = TRY(read_sigset(set)) & ~proc::kUnblockable;
        if (how == kSigBlock)
            blocked |= value;
        else if (how == kSigUnblock)
            blocked &= ~value;
        else if (how == kSigSetMask)
            blocked = value;
        else
            return lib::Errno::Inval;
    }
    if (!old.is_null()) TRY(mm::copy_to_user(old, previous));
    return 0;  // what is now unblocked is delivered on the way out
}

SyscallResult sys_rt_sigpending(UserOut<uint64_t> set, uint64_t size) {
    if (size > kSigsetSize) return lib::Errno::Inval;
    sched::Thread& self = sched::current();
    uint64_t pending = proc::pending_signals(self) & self.signals.blocked;
    TRY(mm::copy_to_user_bytes(set.address(), &pending, size));
    return 0;
}

SyscallResult sys_rt_sigsuspend(UserIn<uint64_t> mask, uint64_t size) {
    if (size != kSigsetSize) return lib::Errno::Inval;
    uint64_t wanted = TRY(read_sigset(mask));
    sched::Thread& self = sched::current();
    // The handler runs under `wanted`; its sigreturn (or delivery without one) restores this.
    self.signals.saved_blocked = self.signals.blocked;
    self.signals.restore_blocked = true;
    self.signals.blocked = wanted & ~proc::kUnblockable;
    wait_for_signal(self);
    return lib::Errno::Intr;
}

SyscallResult sys_pause() {
    wait_for_signal(sched::current());
    return lib::Errno::Intr;
}

SyscallResult sys_rt_sigtimedwait(UserIn<uint64_t> set, UserOut<SigInfo> info,
                                  UserIn<TimeSpec> timeout, uint64_t size) {
    if (size != kSigsetSize) return lib::Errno::Inval;
    uint64_t wanted = TRY(read_sigset(set)) & ~proc::kUnblockable;
    uint64_t deadline = sched::kForever;
    if (!timeout.is_null()) {
        TimeSpec ts;
        TRY(mm::copy_from_user(ts, timeout));
        if (ts.seconds < 0 || ts.nanoseconds < 0 || ts.nanoseconds >= 1000000000)
            return lib::Errno::Inval;
        uint64_t ns;
        if (__builtin_mul_overflow(uint64_t(ts.seconds), 1000000000ull, &ns) ||
            __builtin_add_overflow(ns, uint64_t(ts.nanoseconds), &ns) ||
            __builtin_add_overflow(ns, time::monotonic_ns(), &deadline))
            deadline = sched::kForever;
    }
    sched::Thread& self = sched::current();
    SigInfo taken{};
    int signal = proc::take_signal(self, wanted, taken);
    if (!signal) {
        if (!timeout.is_null() && deadline <= time::monotonic_ns()) return lib::Errno::Again;
        // Linux's do_sigtimedwait(): the waited-for signals are unblocked while it sleeps, so
        // sending one wakes it, and blocked again before one is taken.
        uint64_t blocked = self.signals.blocked;
        self.signals.waiting = wanted;
        self.signals.blocked &= ~wanted;
        bool timed_out = false;
        while (!proc::signal_deliverable(self) && !timed_out) {
            if (deadline == sched::kForever)
                sched::block(true);
            else
                timed_out = sched::sleep_until(deadline) == sched::WakeReason::TimedOut;
        }
        self.signals.blocked = blocked;
        self.signals.waiting = 0;
        signal = proc::take_signal(self, wanted, taken);
        if (!signal) return timed_out ? lib::Errno::Again : lib::Errno::Intr;
    }
    if (!info.is_null()) TRY(mm::copy_to_user(info, taken));
    return signal;
}

SyscallResult sys_rt_sigqueueinfo(int pid, int signal, UserIn<SigInfo> user_info) {
    if (signal != 0 && !valid_signal(signal)) return lib::Errno::Inval;
    if (pid != proc::current().pid()) return lib::Errno::Srch;
    SigInfo info;
    TRY(mm::copy_from_user(info, user_info));
    info.signo = signal;  // a process may claim any si_code for signals to itself
    return send(nullptr, info);
}

SyscallResult sys_rt_tgsigqueueinfo(int tgid, int tid, int signal, UserIn<SigInfo> user_info) {
    if (signal != 0 && !valid_signal(signal)) return lib::Errno::Inval;
    sched::Thread* thread = TRY(thread_of_ours(tgid, tid));
    SigInfo info;
    TRY(mm::copy_from_user(info, user_info));
    info.signo = signal;
    return send(thread, info);
}

SyscallResult sys_kill(int pid, int signal) {
    if (signal != 0 && !valid_signal(signal)) return lib::Errno::Inval;
    // The program's own pid or process group (0); there is no other process (-1 would
    // mean every process but the caller: none).
    if (pid != proc::current().pid() && pid != 0) return lib::Errno::Srch;
    return send(nullptr, sender_info(signal, proc::kSiUser));
}

SyscallResult sys_tkill(int tid, int signal) {
    if (signal != 0 && !valid_signal(signal)) return lib::Errno::Inval;
    sched::Thread* thread = TRY(thread_of_ours(-1, tid));
    return send(thread, sender_info(signal, proc::kSiTkill));
}

SyscallResult sys_tgkill(int tgid, int tid, int signal) {
    if (signal != 0 && !valid_signal(signal)) return lib::Errno::Inval;
    if (tgid <= 0) return lib::Errno::Inval;
    sched::Thread* thread = TRY(thread_of_ours(tgid, tid));
    return send(thread, sender_info(signal, proc::kSiTkill));
}

SyscallResult sys_sigaltstack(UserIn<proc::StackT> stack, UserOut<proc::StackT> old) {
    sched::Thread& self = sched::current();
    uint64_t sp = self.frame->rsp;
    proc::ThreadSignals& signals = self.signals;
    proc::StackT previous{signals.alt_sp, signals.alt_stack_flags(sp), 0, signals.alt_size};
    if (!stack.is_null()) {
        proc::StackT wanted;
        TRY(mm::copy_from_user(wanted, stack));
        TRY(proc::change_alt_stack(signals, wanted, sp));
    }
    if (!old.is_null()) TRY(mm::copy_to_user(old, previous));
    return 0;
}

SyscallResult sys_rt_sigreturn() {
    sched::Thread& self = sched::current();
    arch::TrapFrame& frame = *self.frame;
    self.syscall_nr = -1;  // the restored rax is a result, never a syscall to restart
    if (!proc::restore_signal_frame(frame, self)) {
        SigInfo info{};
        info.signo = proc::kSigSegv;
        info.code = proc::kSiKernel;
        proc::force_fault_signal(frame, info);  // a SIGSEGV handler, if there is one
        return 0;                               // its rax
    }
    // The whole context is back, rcx and r11 included, which sysret would clobber: leave
    // through iretq after what every return to ring 3 does.
    sched::return_to_user_point(frame);
    arch::return_to_user(&frame);
}

SyscallResult sys_signalfd4(int fd, UserIn<uint64_t> mask, uint64_t size, int flags) {
    if (size != kSigsetSize || (flags & ~(kSfdNonblock | kSfdCloexec))) return lib::Errno::Inval;
    uint64_t wanted = TRY(read_sigset(mask)) & ~proc::kUnblockable;
    auto& fds = proc::current().fds();
    if (fd != -1) {
        fs::SignalFd* existing = fs::as_signalfd(TRY(fds.get(fd)));
        if (!existing) return lib::Errno::Inval;
        existing->set_mask(wanted);
        return fd;
    }
    auto* file = new (std::nothrow) fs::SignalFd(wanted, (flags & kSfdNonblock) != 0);
    if (!file) return lib::Errno::NoMem;
    auto installed = fds.install(file, 0, (flags & kSfdCloexec) != 0);
    if (installed.is_error()) file->release();
    return TRY(installed);
}

SyscallResult sys_signalfd(int fd, UserIn<uint64_t> mask, uint64_t size) {
    return sys_signalfd4(fd, mask, size, 0);
}

}  // namespace kernel::sys
