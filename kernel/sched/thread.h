// A thread of the program: its kernel stack (the user registers sit on top while it is in the
// kernel), its saved FP state, TLS base, signal state, and the links the scheduler, wait
// queues and timers use. All threads share the one Process (address space, files, signal
// actions): Phoenix runs one program.
#pragma once

#include <cstdint>

#include "kernel/arch/x86_64/trap_frame.h"
#include "kernel/proc/signal_state.h"
#include "kernel/sched/timer.h"
#include "lib/base/result.h"

namespace kernel::sched {

class WaitQueue;

enum class ThreadState : uint8_t { Runnable, Running, Blocked, Dead };
enum class WakeReason : uint8_t { None, Woken, TimedOut, Interrupted };

class Thread {
public:
    // A new thread with its own kernel stack and FP area; `tid` from next_tid(). NoMem.
    static lib::Result<Thread*> create(int tid);
    ~Thread();
    Thread(const Thread&) = delete;
    Thread& operator=(const Thread&) = delete;

    // Prepares the first switch into this thread: it will enter ring 3 with `frame`.
    void start_with(const arch::TrapFrame& frame);

    int tid;
    ThreadState state = ThreadState::Runnable;
    uint64_t kernel_stack_top = 0;
    uint64_t saved_rsp = 0;            // while switched out
    arch::TrapFrame* frame = nullptr;  // the user registers of the current kernel entry
    uint64_t fs_base = 0;              // while switched out
    void* fpu = nullptr;               // while switched out
    proc::ThreadSignals signals;
    int64_t syscall_nr = -1;  // the syscall this entry made, for restarting it; -1: none
    uint64_t clear_child_tid = 0;  // set_tid_address, CLONE_CHILD_CLEARTID
    uint64_t robust_list = 0;      // set_robust_list
    char name[16] = "main";        // prctl(PR_SET_NAME)
    // futex waits: the word waited on and the bitset.
    uint64_t futex_address = 0;
    uint32_t futex_bitset = 0;

    // Scheduler links (kernel/sched/scheduler.cc, wait.cc).
    Thread* run_next = nullptr;
    WaitQueue* waiting_on = nullptr;
    Thread* wait_next = nullptr;
    Thread* wait_prev = nullptr;
    WakeReason wake_reason = WakeReason::None;
    bool interruptible = false;
    Timer wake_timer;
    Thread* all_next = nullptr;  // every live thread (thread_by_tid)

private:
    explicit Thread(int tid);
};

Thread& current();
bool has_current();
// The thread with this tid, or nullptr.
Thread* thread_by_tid(int tid);
int next_tid();
// Threads that have not exited.
int live_thread_count();
// Every live thread (follow all_next), for signal routing.
Thread* first_thread();

}  // namespace kernel::sched
