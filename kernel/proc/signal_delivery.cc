// Signals from sending to delivery: the process's action table and its shared pending set,
// routing a process-directed signal to a thread that takes it (Linux's complete_signal), and
// at every return to ring 3 the handler frames, default actions and syscall restarts
// (arch/x86/kernel/signal.c's arch_do_signal_or_restart is the model).
#include "kernel/proc/signal_delivery.h"

#include "kernel/arch/x86_64/trap_frame.h"
#include "kernel/console/log.h"
#include "kernel/fs/signalfd.h"
#include "kernel/proc/crash.h"
#include "kernel/proc/process.h"
#include "kernel/proc/signal_frame.h"
#include "kernel/proc/signal_state.h"
#include "kernel/sched/scheduler.h"

namespace kernel::proc {

namespace {

SigAction g_actions[kMaxSignal + 1];
PendingSignals g_shared;  // sent to the process: whichever thread does not block it first
bool g_said_no_job_control = false;

constexpr int64_t kEintr = -int64_t(lib::Errno::Intr);

bool ignored_by_default(int signal) {
    return signal == kSigChld || signal == kSigUrg || signal == kSigWinch || signal == kSigCont;
}
bool stops(int signal) {
    return signal == kSigStop || signal == kSigTstp || signal == kSigTtin || signal == kSigTtou;
}
bool dumps_core(int signal) {
    switch (signal) {
        case kSigQuit:
        case kSigIll:
        case kSigTrap:
        case kSigAbrt:
        case kSigBus:
        case kSigFpe:
        case kSigSegv:
        case kSigSys:
            return true;
        default:
            return false;
    }
}

// The action does nothing (stop signals too: Phoenix has no job control).
bool ignores(const SigAction& action, int signal) {
    if (action.handler == kSigIgn) return true;
    return action.handler == kSigDfl && (ignored_by_default(signal) || stops(signal));
}

bool live(const sched::Thread& thread) { return thread.state != sched::ThreadState::Dead; }
bool blocks(const sched::Thread& thread, int signal) {
    return (thread.signals.blocked & sig_bit(signal)) != 0;
}

// Linux's sig_ignored(): an ignored signal is dropped when sent, unless the target blocks it
// (the action may change before it is unblocked) or waits for it in sigtimedwait.
bool dropped(const sched::Thread* target, int signal) {
    if (signal == kSigKill || !ignores(g_actions[signal], signal)) return false;
    uint64_t bit = sig_bit(signal);
    if (target) return !((target->signals.blocked | target->signals.waiting) & bit);
    for (auto* t = sched::first_thread(); t; t = t->all_next)
        if (live(*t) && ((t->signals.blocked | t->signals.waiting) & bit)) return false;
    return true;
}

// Wakes the thread that will take a newly pending signal: the target of a thread-directed
// one if it does not block it. A process-directed one is left to the running thread when it
// does not block it (it takes it on its way back to ring 3), else goes to a thread that does
// not, preferably one in an interruptible sleep (Linux's complete_signal()).
void wake_receiver(sched::Thread* target, int signal) {
    if (target) {
        if (!blocks(*target, signal)) sched::wake(*target, sched::WakeReason::Interrupted);
    } else if (!sched::has_current() || sched::current().state != sched::ThreadState::Running ||
               blocks(sched::current(), signal)) {
        sched::Thread* chosen = nullptr;
        for (auto* t = sched::first_thread(); t; t = t->all_next) {
            if (!live(*t) || blocks(*t, signal)) continue;
            if (!chosen) chosen = t;
            if (t->state == sched::ThreadState::Blocked && t->interruptible) {
                chosen = t;
                break;
            }
        }
        if (chosen) sched::wake(*chosen, sched::WakeReason::Interrupted);
    }
    fs::signalfd_notify();
}

[[noreturn]] void default_kill(const arch::TrapFrame& frame, const SigInfo& info) {
    int signal = info.signo;
    if (dumps_core(signal)) crash_for_signal(frame, info);
    kprint("\n*** program killed by signal {} ({}) ***\n", signal, signal_name(signal));
    exit_program(128 + signal);
}

void say_no_job_control(int signal) {
    if (g_said_no_job_control) return;
    klog("signal {} ({}) would stop the program; Phoenix has no job control: ignored", signal,
         signal_name(signal));
    g_said_no_job_control = true;
}

void default_action(const arch::TrapFrame& frame, const SigInfo& info) {
    int signal = info.signo;
    if (ignored_by_default(signal)) return;
    if (stops(signal)) {
        say_no_job_control(signal);
        return;
    }
    default_kill(frame, info);
}

// Syscalls that fail with EINTR after a handler even with SA_RESTART (signal(7)): the
// sleeps, the waits for signals and for readiness.
bool restarts_with_sa_restart(int64_t number) {
    switch (number) {
        case 7:    // poll
        case 23:   // select
        case 34:   // pause
        case 35:   // nanosleep
        case 128:  // rt_sigtimedwait
        case 130:  // rt_sigsuspend
        case 208:  // io_getevents
        case 230:  // clock_nanosleep
        case 232:  // epoll_wait
        case 270:  // pselect6
        case 271:  // ppoll
        case 281:  // epoll_pwait
        case 441:  // epoll_pwait2
            return false;
        default:
            return true;
    }
}

// Back to the syscall instruction (2 bytes) with its number: it runs again on return.
void restart_syscall(arch::TrapFrame& frame, int64_t number) {
    frame.rax = uint64_t(number);
    frame.rip -= 2;
}

[[noreturn]] void no_room_for_frame(arch::TrapFrame& frame, int signal, uint64_t where) {
    klog("no room for the frame of signal {} ({}) at {:#x}: SIGSEGV", signal, signal_name(signal),
         where);
    crash(frame, kSigSegv, where, "the signal frame could not be written to the user stack");
}

}  // namespace

// Builds the handler's frame and blocks what it runs under (kernel/proc/fault_signal.cc
// uses it too).
void run_handler(arch::TrapFrame& frame, sched::Thread& self, const SigInfo& info) {
    int signal = info.signo;
    SigAction& action = g_actions[signal];
    ThreadSignals& signals = self.signals;
    uint64_t old_mask = signals.restore_blocked ? signals.saved_blocked : signals.blocked;
    uint64_t where = 0;
    if (!setup_signal_frame(frame, self, info, action, old_mask, where))
        no_room_for_frame(frame, signal, where);
    signals.restore_blocked = false;
    uint64_t blocked = signals.blocked | action.mask;
    if (!(action.flags & kSaNodefer)) blocked |= sig_bit(signal);
    signals.blocked = blocked & ~kUnblockable;
    if (action.flags & kSaResethand) action.handler = kSigDfl;
}

bool has_handler(int signal) {
    uint64_t handler = g_actions[signal].handler;
    return handler != kSigDfl && handler != kSigIgn;
}

const SigAction& signal_action(int signal) { return g_actions[signal]; }

void set_signal_action(int signal, const SigAction& action) {
    g_actions[signal] = action;
    g_actions[signal].mask &= ~kUnblockable;
    if (!ignores(action, signal)) return;
    // POSIX: setting an ignoring action discards what is pending, blocked or not.
    g_shared.discard(signal);
    for (auto* t = sched::first_thread(); t; t = t->all_next) t->signals.pending.discard(signal);
}

bool signal_deliverable(const sched::Thread& thread) {
    return (pending_signals(thread) & ~thread.signals.blocked) != 0;
}

uint64_t pending_signals(const sched::Thread& thread) {
    return thread.signals.pending.mask() | g_shared.mask();
}

int take_signal(sched::Thread& thread, uint64_t allowed, SigInfo& info) {
    if (int signal = thread.signals.pending.take(allowed, info)) return signal;
    return g_shared.take(allowed, info);
}

bool send_signal_info(sched::Thread* thread, const SigInfo& info) {
    int signal = info.signo;
    if (dropped(thread, signal)) {
        if (stops(signal) && g_actions[signal].handler == kSigDfl) say_no_job_control(signal);
        return true;
    }
    PendingSignals& set = thread ? thread->signals.pending : g_shared;
    if (!set.add(info)) return false;
    wake_receiver(thread, signal);
    return true;
}

bool send_owned_signal(sched::Thread* thread, QueuedSignal& entry) {
    int signal = entry.info.signo;
    if (entry.queue) return false;
    if (dropped(thread, signal)) return true;
    PendingSignals& set = thread ? thread->signals.pending : g_shared;
    set.add_owned(entry);
    wake_receiver(thread, signal);
    return true;
}

void send_signal(sched::Thread* thread, int signal) {
    if (signal < 1 || signal > kMaxSignal) return;
    SigInfo info{};
    info.signo = signal;
    info.code = kSiKernel;
    (void)send_signal_info(thread, info);
}

namespace {

// deliver_signals() when there is something to do.
__attribute__((noinline)) void deliver_pending(arch::TrapFrame& frame, sched::Thread& self) {
    ThreadSignals& signals = self.signals;
    // A syscall's return: it may have to run again (Linux's orig_ax).
    int64_t syscall = frame.vector == uint64_t(-1) ? self.syscall_nr : -1;
    self.syscall_nr = -1;
    for (;;) {
        SigInfo info;
        int signal = take_signal(self, ~signals.blocked, info);
        if (!signal) break;
        const SigAction& action = g_actions[signal];
        if (action.handler == kSigIgn) continue;
        if (action.handler == kSigDfl) {
            default_action(frame, info);
            continue;
        }
        if (syscall >= 0) {
            if (int64_t(frame.rax) == kEintr && (action.flags & kSaRestart) &&
                restarts_with_sa_restart(syscall))
                restart_syscall(frame, syscall);
            syscall = -1;
        }
        run_handler(frame, self, info);
    }
    // No handler ran: an interrupted syscall starts over, as if nothing had happened (the
    // signal went to another thread, or its action changed meanwhile). Linux resumes a
    // nanosleep with what was left (restart_syscall); here it sleeps its whole time again.
    if (syscall >= 0 && int64_t(frame.rax) == kEintr) restart_syscall(frame, syscall);
    if (signals.restore_blocked) {
        signals.blocked = signals.saved_blocked;
        signals.restore_blocked = false;
    }
}

}  // namespace

void deliver_signals(arch::TrapFrame& frame) {
    sched::Thread& self = sched::current();
    const ThreadSignals& signals = self.signals;
    // The common case, every syscall's return: nothing pending, nothing to restart. Kept to
    // a few instructions: some hosts emulate ring 0 one instruction at a time.
    if (!((signals.pending.mask() | g_shared.mask()) & ~signals.blocked) &&
        !signals.restore_blocked && !(frame.vector == uint64_t(-1) && int64_t(frame.rax) == kEintr))
        return;
    deliver_pending(frame, self);
}

}  // namespace kernel::proc
