// Signal bookkeeping for a single-threaded program: actions and the mask are recorded, and a
// signal sent to the program takes its default action. FIXME(#5): deliver to user handlers.
#include "kernel/console/log.h"
#include "kernel/proc/crash.h"
#include "kernel/proc/process.h"
#include "kernel/proc/signal_state.h"
#include "kernel/sys/handlers.h"

namespace kernel::sys {

namespace {

constexpr int kMaxSignal = 64;
constexpr int kSigKill = 9, kSigStop = 19;
constexpr int kSigBlock = 0, kSigUnblock = 1, kSigSetMask = 2;
constexpr uint64_t kSigDefault = 0, kSigIgnore = 1;

SigAction g_actions[kMaxSignal + 1];
uint64_t g_mask = 0;

bool valid_signal(int signal) { return signal >= 1 && signal <= kMaxSignal; }

// Linux's default action is to ignore these; every other signal ends the program.
bool ignored_by_default(int signal) {
    return signal == 17 || signal == 23 || signal == 28 || signal == 18;  // CHLD URG WINCH CONT
}

SyscallResult send_to_self(int signal) {
    if (signal == 0) return 0;  // existence check
    if (!valid_signal(signal)) return lib::Errno::Inval;
    uint64_t handler = g_actions[signal].handler;
    if (handler == kSigIgnore || (handler == kSigDefault && ignored_by_default(signal))) return 0;
    if (handler != kSigDefault)
        klog("signal {} has a handler, but handlers are not delivered yet: default action",
             signal);
    kprint("\n*** program killed by signal {} ({}) ***\n", signal, proc::signal_name(signal));
    proc::exit_program(128 + signal);
}

}  // namespace

SyscallResult send_to_self_for_kernel(int signal) { return send_to_self(signal); }

SyscallResult sys_rt_sigaction(int signal, UserIn<SigAction> action, UserOut<SigAction> old,
                               uint64_t mask_size) {
    if (!valid_signal(signal) || mask_size != 8) return lib::Errno::Inval;
    if (!action.is_null() && (signal == kSigKill || signal == kSigStop)) return lib::Errno::Inval;
    SigAction previous = g_actions[signal];
    if (!action.is_null()) TRY(mm::copy_from_user(g_actions[signal], action));
    if (!old.is_null()) TRY(mm::copy_to_user(old, previous));
    return 0;
}

SyscallResult sys_rt_sigprocmask(int how, UserIn<uint64_t> set, UserOut<uint64_t> old,
                                 uint64_t mask_size) {
    if (mask_size != 8) return lib::Errno::Inval;
    uint64_t previous = g_mask;
    if (!set.is_null()) {
        uint64_t value;
        TRY(mm::copy_from_user(value, set));
        value &= ~((1ull << (kSigKill - 1)) | (1ull << (kSigStop - 1)));
        if (how == kSigBlock)
            g_mask |= value;
        else if (how == kSigUnblock)
            g_mask &= ~value;
        else if (how == kSigSetMask)
            g_mask = value;
        else
            return lib::Errno::Inval;
    }
    if (!old.is_null()) TRY(mm::copy_to_user(old, previous));
    return 0;
}

SyscallResult sys_kill(int pid, int signal) {
    if (pid != proc::current().pid() && pid != 0 && pid != -1) return lib::Errno::Srch;
    return send_to_self(signal);
}

SyscallResult sys_tkill(int tid, int signal) {
    if (tid != proc::current().pid()) return lib::Errno::Srch;
    return send_to_self(signal);
}

SyscallResult sys_tgkill(int tgid, int tid, int signal) {
    if (tgid != proc::current().pid() || tid != proc::current().pid()) return lib::Errno::Srch;
    return send_to_self(signal);
}

}  // namespace kernel::sys

namespace kernel::proc {

// FIXME(#5): handlers; until then nothing is ever left pending (send_to_self acts at once).
void deliver_signals(arch::TrapFrame&) {}

void send_signal(sched::Thread*, int signal) { (void)sys::send_to_self_for_kernel(signal); }

}  // namespace kernel::proc
