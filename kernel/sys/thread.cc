// Threads from the program's side: clone/clone3 with the flag sets glibc, musl, Rust and Go
// use, thread exit (CLONE_CHILD_CLEARTID, robust futex lists) and exit_group, gettid,
// sched_yield. There is one process, so fork, vfork and execve cannot exist: they fail with
// a message saying so, once.
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/fpu.h"
#include "kernel/console/log.h"
#include "kernel/proc/process.h"
#include "kernel/sched/scheduler.h"
#include "kernel/sys/futex.h"
#include "kernel/sys/handlers.h"

namespace kernel::sys {

struct CloneArgs {  // struct clone_args, up to CLONE_ARGS_SIZE_VER2
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
    uint64_t set_tid, set_tid_size, cgroup;
};

namespace {

constexpr uint64_t kCloneVm = 0x100, kCloneFs = 0x200, kCloneFiles = 0x400, kCloneSighand = 0x800,
                   kClonePidfd = 0x1000, kClonePtrace = 0x2000, kCloneVfork = 0x4000,
                   kCloneParent = 0x8000, kCloneThread = 0x10000, kCloneSysvsem = 0x40000,
                   kCloneSettls = 0x80000, kCloneParentSettid = 0x100000,
                   kCloneChildCleartid = 0x200000, kCloneDetached = 0x400000,
                   kCloneUntraced = 0x800000, kCloneChildSettid = 0x01000000, kCloneIo = 0x80000000;
constexpr uint64_t kCloneExitSignal = 0xff;
// What a thread of this process may ask for; every namespace and tracing flag is refused.
constexpr uint64_t kThreadFlags = kCloneVm | kCloneFs | kCloneFiles | kCloneSighand | kCloneThread |
                                  kCloneSysvsem | kCloneSettls | kCloneParentSettid |
                                  kCloneChildCleartid | kCloneDetached | kCloneUntraced |
                                  kCloneChildSettid | kCloneIo | kClonePtrace | kCloneExitSignal;

// Robust futex lists (linux/futex.h): what a dying thread must release.
constexpr uint32_t kFutexWaiters = 0x8000'0000, kFutexOwnerDied = 0x4000'0000,
                   kFutexTidMask = 0x3fff'ffff;
constexpr int kRobustListLimit = 2048;  // Linux's ROBUST_LIST_LIMIT

struct RobustListHead {
    uint64_t next;
    int64_t futex_offset;
    uint64_t list_op_pending;
};

bool g_said_no_fork = false;

SyscallResult no_new_process(const char* call) {
    if (!g_said_no_fork) {
        klog("{}: a unikernel runs one process; new processes are not available", call);
        g_said_no_fork = true;
    }
    return lib::Errno::NoSys;
}

// Marks a futex the dying thread holds as owned by a dead thread and wakes one waiter.
void release_robust_futex(uint64_t address, int tid) {
    uint32_t word;
    if (mm::copy_from_user(word, UserIn<uint32_t>(address)).is_error()) return;
    if ((word & kFutexTidMask) != uint32_t(tid)) return;
    uint32_t died = (word & kFutexWaiters) | kFutexOwnerDied;
    if (mm::copy_to_user(UserOut<uint32_t>(address), died).is_error()) return;
    if (word & kFutexWaiters) futex_wake(address, 1);
}

void release_robust_list(sched::Thread& thread) {
    if (!thread.robust_list) return;
    RobustListHead head;
    if (mm::copy_from_user(head, UserIn<RobustListHead>(thread.robust_list)).is_error()) return;
    uint64_t entry = head.next;
    for (int i = 0; i < kRobustListLimit && entry != thread.robust_list; ++i) {
        uint64_t next;
        if (mm::copy_from_user(next, UserIn<uint64_t>(entry)).is_error()) break;
        if (entry != head.list_op_pending) release_robust_futex(entry + uint64_t(head.futex_offset), thread.tid);
        entry = next;
    }
    if (head.list_op_pending)
        release_robust_futex(head.list_op_pending + uint64_t(head.futex_offset), thread.tid);
}

SyscallResult spawn_thread(uint64_t flags, uint64_t stack, uint64_t parent_tid, uint64_t child_tid,
                           uint64_t tls) {
    if (!(flags & kCloneVm)) return no_new_process("fork");
    if (flags & kCloneVfork) return no_new_process("vfork");
    if (!(flags & kCloneThread)) return no_new_process("clone without CLONE_THREAD");
    if (!(flags & kCloneSighand) || (flags & ~kThreadFlags)) return lib::Errno::Inval;
    if ((flags & kCloneSettls) && tls >= arch::kUserEnd) return lib::Errno::Perm;

    sched::Thread& parent = sched::current();
    int tid = sched::next_tid();
    auto created = sched::Thread::create(tid);
    if (created.is_error()) return lib::Errno::Again;
    sched::Thread& child = *created.value();
    arch::TrapFrame frame = *parent.frame;
    frame.rax = 0;  // the child's clone returns 0
    if (stack) frame.rsp = stack;
    child.start_with(frame);
    child.fs_base = (flags & kCloneSettls) ? tls : arch::rdmsr(arch::kMsrFsBase);
    arch::fpu_save(child.fpu);  // the parent's registers as they are now
    child.signals.blocked = parent.signals.blocked;
    __builtin_memcpy(child.name, parent.name, sizeof child.name);
    if (flags & kCloneChildCleartid) child.clear_child_tid = child_tid;
    if (flags & kCloneParentSettid) (void)mm::copy_to_user(UserOut<int32_t>(parent_tid), int32_t(tid));
    if (flags & kCloneChildSettid) (void)mm::copy_to_user(UserOut<int32_t>(child_tid), int32_t(tid));
    sched::make_runnable(child);
    return tid;
}

}  // namespace

SyscallResult sys_clone(uint64_t flags, uint64_t stack, uint64_t parent_tid, uint64_t child_tid,
                        uint64_t tls) {
    return spawn_thread(flags, stack, parent_tid, child_tid, tls);
}

SyscallResult sys_clone3(UserIn<CloneArgs> user_args, uint64_t size) {
    constexpr uint64_t kVer0 = 64;
    if (size < kVer0 || size > 4096) return lib::Errno::Inval;
    CloneArgs args{};
    TRY(mm::copy_from_user_bytes(&args, user_args.address(), size < sizeof args ? size : sizeof args));
    if (args.flags & (kClonePidfd | kCloneParent)) return lib::Errno::Inval;
    if (args.set_tid || args.set_tid_size || args.cgroup) return lib::Errno::Inval;
    if (args.exit_signal > 64 || (args.stack && !args.stack_size)) return lib::Errno::Inval;
    uint64_t top = args.stack ? args.stack + args.stack_size : 0;  // the stack grows down
    return spawn_thread(args.flags | args.exit_signal, top, args.parent_tid, args.child_tid, args.tls);
}

SyscallResult sys_fork() { return no_new_process("fork"); }
SyscallResult sys_vfork() { return no_new_process("vfork"); }
SyscallResult sys_execve(uint64_t, uint64_t, uint64_t) { return no_new_process("execve"); }

SyscallResult sys_exit(int status) {
    sched::Thread& self = sched::current();
    release_robust_list(self);
    if (self.clear_child_tid) {
        // What pthread_join waits for: the tid word cleared, then a futex wakeup.
        if (mm::copy_to_user(UserOut<int32_t>(self.clear_child_tid), int32_t(0)).has_value())
            futex_wake(self.clear_child_tid, 1);
    }
    if (sched::live_thread_count() == 1) proc::exit_program(status);  // the last thread
    sched::exit_current();
}

SyscallResult sys_exit_group(int status) { proc::exit_program(status); }

SyscallResult sys_gettid() { return sched::current().tid; }

SyscallResult sys_set_tid_address(uint64_t address) {
    sched::current().clear_child_tid = address;
    return sched::current().tid;
}

SyscallResult sys_set_robust_list(uint64_t head, uint64_t length) {
    if (length != sizeof(RobustListHead)) return lib::Errno::Inval;
    sched::current().robust_list = head;
    return 0;
}

SyscallResult sys_get_robust_list(int tid, UserOut<uint64_t> head, UserOut<uint64_t> length) {
    sched::Thread* thread = tid ? sched::thread_by_tid(tid) : &sched::current();
    if (!thread) return lib::Errno::Srch;
    TRY(mm::copy_to_user(head, thread->robust_list));
    TRY(mm::copy_to_user(length, uint64_t(sizeof(RobustListHead))));
    return 0;
}

SyscallResult sys_sched_yield() {
    sched::yield();
    return 0;
}

}  // namespace kernel::sys

// --- scheduling policy: one CPU, everyone SCHED_OTHER ---

namespace kernel::sys {

namespace {

constexpr int kSchedOther = 0, kSchedFifo = 1, kSchedRr = 2, kSchedBatch = 3, kSchedIdle = 5;
constexpr int kSchedResetOnFork = 0x40000000;

// A tid of this process (0: the caller); ESRCH otherwise.
lib::Result<sched::Thread*> thread_arg(int tid) {
    if (tid < 0) return lib::Errno::Inval;
    sched::Thread* thread = tid ? sched::thread_by_tid(tid) : &sched::current();
    if (!thread) return lib::Errno::Srch;
    return thread;
}

}  // namespace

SyscallResult sys_sched_setscheduler(int tid, int policy, UserIn<int32_t> param) {
    TRY(thread_arg(tid));
    int32_t priority;
    TRY(mm::copy_from_user(priority, param));
    switch (policy & ~kSchedResetOnFork) {
        case kSchedOther:
        case kSchedBatch:
        case kSchedIdle:
            return priority == 0 ? 0 : int64_t(-int64_t(lib::Errno::Inval));
        case kSchedFifo:
        case kSchedRr:
            // Real-time priorities would need a priority run queue: refused as for a
            // process without CAP_SYS_NICE.
            return lib::Errno::Perm;
        default:
            return lib::Errno::Inval;
    }
}

SyscallResult sys_sched_getscheduler(int tid) {
    TRY(thread_arg(tid));
    return kSchedOther;
}

SyscallResult sys_sched_setparam(int tid, UserIn<int32_t> param) {
    return sys_sched_setscheduler(tid, kSchedOther, param);
}

SyscallResult sys_sched_getparam(int tid, UserOut<int32_t> param) {
    TRY(thread_arg(tid));
    TRY(mm::copy_to_user(param, int32_t(0)));
    return 0;
}

SyscallResult sys_sched_get_priority_max(int policy) {
    if (policy == kSchedFifo || policy == kSchedRr) return 99;
    if (policy == kSchedOther || policy == kSchedBatch || policy == kSchedIdle) return 0;
    return lib::Errno::Inval;
}

SyscallResult sys_sched_get_priority_min(int policy) {
    if (policy == kSchedFifo || policy == kSchedRr) return 1;
    if (policy == kSchedOther || policy == kSchedBatch || policy == kSchedIdle) return 0;
    return lib::Errno::Inval;
}

SyscallResult sys_sched_rr_get_interval(int tid, UserOut<TimeSpec> interval) {
    TRY(thread_arg(tid));
    TRY(mm::copy_to_user(interval, TimeSpec{0, 10'000'000}));  // the scheduler's slice
    return 0;
}

SyscallResult sys_sched_setaffinity(int tid, uint64_t size, UserIn<uint8_t> mask) {
    TRY(thread_arg(tid));
    if (size == 0) return lib::Errno::Inval;
    uint8_t first;
    TRY(mm::copy_from_user(first, mask));
    return (first & 1) ? 0 : int64_t(-int64_t(lib::Errno::Inval));  // CPU 0 is the only one
}

SyscallResult sys_getcpu(UserOut<uint32_t> cpu, UserOut<uint32_t> node, uint64_t) {
    if (!cpu.is_null()) TRY(mm::copy_to_user(cpu, uint32_t(0)));
    if (!node.is_null()) TRY(mm::copy_to_user(node, uint32_t(0)));
    return 0;
}

// membarrier: with one CPU every barrier is already implied by the syscall itself.
SyscallResult sys_membarrier(int command, unsigned flags, int) {
    constexpr int kQuery = 0, kGlobal = 1, kPrivateExpedited = 8, kRegisterPrivateExpedited = 16;
    constexpr int kSupported = kGlobal | kPrivateExpedited | kRegisterPrivateExpedited;
    if (flags) return lib::Errno::Inval;
    if (command == kQuery) return kSupported;
    if ((command & ~kSupported) || (command & (command - 1))) return lib::Errno::Inval;  // one command
    return 0;
}

SyscallResult sys_prctl(int option, uint64_t arg2, uint64_t, uint64_t, uint64_t) {
    constexpr int kSetPdeathsig = 1, kGetPdeathsig = 2, kGetDumpable = 3, kSetDumpable = 4,
                  kSetName = 15, kGetName = 16, kGetTimerslack = 30, kSetTimerslack = 29,
                  kSetNoNewPrivs = 38, kGetNoNewPrivs = 39, kSetVma = 0x53564d41;
    sched::Thread& self = sched::current();
    switch (option) {
        case kSetName: {
            char name[sizeof self.name] = {};
            for (size_t i = 0; i + 1 < sizeof name; ++i) {
                TRY(mm::copy_from_user(name[i], UserIn<char>(arg2 + i)));
                if (!name[i]) break;
            }
            __builtin_memcpy(self.name, name, sizeof name);
            return 0;
        }
        case kGetName:
            TRY(mm::copy_to_user_bytes(arg2, self.name, sizeof self.name));
            return 0;
        case kSetPdeathsig:  // there is no parent to die
        case kSetDumpable:
        case kSetTimerslack:
        case kSetNoNewPrivs:
            return 0;
        case kGetPdeathsig:
            TRY(mm::copy_to_user(UserOut<int32_t>(arg2), int32_t(0)));
            return 0;
        case kGetDumpable:
            return 1;
        case kGetTimerslack:
            return 50'000;  // Linux's default, in ns
        case kGetNoNewPrivs:
            return 0;
        case kSetVma:  // naming anonymous memory: optional (CONFIG_ANON_VMA_NAME)
        default:
            return lib::Errno::Inval;
    }
}

}  // namespace kernel::sys
