// The run queue, context switches and the idle loop. When nothing is runnable the CPU halts
// (interrupts on) on the stack of whichever thread blocked last, until a timer wakes someone.
#include "kernel/sched/scheduler.h"

#include "kernel/arch/x86_64/apic.h"
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/fpu.h"
#include "kernel/arch/x86_64/percpu.h"
#include "kernel/debug/panic.h"
#include "kernel/proc/signal_state.h"
#include "kernel/sched/wait.h"
#include "kernel/time/clock.h"

extern "C" void switch_context(uint64_t* save_rsp, uint64_t next_rsp);

namespace kernel::sched {

void finish_switch_for_new_thread();

namespace {

constexpr uint64_t kSliceNs = 10'000'000;

// One CPU's scheduling state. FIXME(SMP): one per CPU, reached through PerCpu.
struct RunQueue {
    Thread* head = nullptr;
    Thread* tail = nullptr;
    Thread* current = nullptr;
    Thread* reap = nullptr;       // exited, its stack still in use until the next switch
    bool need_resched = false;
    uint64_t slice_end = kForever;  // when the current thread must let a waiting one run
};

RunQueue g_rq;

void enqueue(Thread& thread) {
    thread.run_next = nullptr;
    if (g_rq.tail)
        g_rq.tail->run_next = &thread;
    else
        g_rq.head = &thread;
    g_rq.tail = &thread;
}

Thread* dequeue() {
    Thread* thread = g_rq.head;
    if (!thread) return nullptr;
    g_rq.head = thread->run_next;
    if (!g_rq.head) g_rq.tail = nullptr;
    thread->run_next = nullptr;
    return thread;
}

// Frees the thread that exited before the switch that brought us here.
void finish_switch() {
    if (g_rq.reap && g_rq.reap != g_rq.current) {
        delete g_rq.reap;
        g_rq.reap = nullptr;
    }
}

void switch_to(Thread& next) {
    Thread* prev = g_rq.current;
    next.state = ThreadState::Running;
    g_rq.slice_end = g_rq.head ? time::monotonic_ns() + kSliceNs : kForever;
    reprogram_timer();
    if (prev == &next) return;
    if (prev->state != ThreadState::Dead) {
        arch::fpu_save(prev->fpu);
        prev->fs_base = arch::rdmsr(arch::kMsrFsBase);
    }
    g_rq.current = &next;
    arch::set_kernel_stack(next.kernel_stack_top);
    arch::wrmsr(arch::kMsrFsBase, next.fs_base);
    arch::fpu_restore(next.fpu);
    switch_context(&prev->saved_rsp, next.saved_rsp);
    finish_switch();
}

// Runs the next runnable thread; with none, halts until a timer makes one runnable.
void schedule() {
    for (;;) {
        if (Thread* next = dequeue()) {
            switch_to(*next);
            return;
        }
        arch::sti();
        asm volatile("hlt");
        arch::cli();
        run_expired_timers();
    }
}

}  // namespace

Thread& current() {
    if (!g_rq.current) panic("no current thread");
    return *g_rq.current;
}

bool has_current() { return g_rq.current != nullptr; }

void start(Thread& first) {
    static uint64_t boot_rsp;  // the boot stack is never returned to
    g_rq.current = &first;
    first.state = ThreadState::Running;
    arch::init_apic();
    arch::set_kernel_stack(first.kernel_stack_top);
    arch::wrmsr(arch::kMsrFsBase, first.fs_base);
    arch::fpu_restore(first.fpu);
    switch_context(&boot_rsp, first.saved_rsp);
    panic("the boot stack was switched back to");
}

void make_runnable(Thread& thread) {
    thread.state = ThreadState::Runnable;
    enqueue(thread);
    if (g_rq.slice_end == kForever) {
        g_rq.slice_end = time::monotonic_ns() + kSliceNs;
        reprogram_timer();
    }
}

void wake(Thread& thread, WakeReason reason) {
    if (thread.state != ThreadState::Blocked) return;
    if (reason == WakeReason::Interrupted && !thread.interruptible) return;
    if (thread.waiting_on) thread.waiting_on->remove(thread);
    thread.wake_timer.cancel();
    thread.wake_reason = reason;
    if (&thread == g_rq.current) {
        // Woken from the idle loop's interrupt while it still stands on its own stack.
        thread.state = ThreadState::Runnable;
        enqueue(thread);
        return;
    }
    make_runnable(thread);
}

void yield() {
    if (!g_rq.head) return;
    Thread& self = current();
    self.state = ThreadState::Runnable;
    enqueue(self);
    schedule();
}

WakeReason block(bool interruptible) {
    Thread& self = current();
    self.interruptible = interruptible;
    self.wake_reason = WakeReason::None;
    if (interruptible && signal_pending(self)) return WakeReason::Interrupted;
    self.state = ThreadState::Blocked;
    schedule();
    return self.wake_reason;
}

WakeReason sleep_until(uint64_t deadline_ns, bool interruptible) {
    Thread& self = current();
    if (deadline_ns <= time::monotonic_ns()) return WakeReason::TimedOut;
    self.wake_timer.arm(deadline_ns);
    WakeReason reason = block(interruptible);
    self.wake_timer.cancel();
    return reason;
}

void preempt_point() {
    if (!g_rq.need_resched) return;
    g_rq.need_resched = false;
    yield();
}

void return_to_user_point(arch::TrapFrame& frame) {
    preempt_point();
    proc::deliver_signals(frame);
}

void exit_current() {
    Thread& self = current();
    self.state = ThreadState::Dead;
    if (g_rq.reap) delete g_rq.reap;  // never the current thread: that one was running
    g_rq.reap = &self;
    schedule();
    panic("an exited thread was scheduled");
}

void timer_interrupt() {
    arch::apic_eoi();
    run_expired_timers();
    if (g_rq.head && time::monotonic_ns() >= g_rq.slice_end) g_rq.need_resched = true;
    reprogram_timer();
}

void reprogram_timer() {
    uint64_t next = next_timer_deadline();
    if (g_rq.head && g_rq.slice_end < next) next = g_rq.slice_end;
    if (next == kForever)
        arch::apic_timer_stop();
    else
        arch::apic_timer_at(next);
}

bool signal_pending(const Thread& thread) {
    return proc::signal_deliverable(thread);
}

void finish_switch_for_new_thread() { finish_switch(); }

}  // namespace kernel::sched

// A new thread's first run (context_switch.S): finish the switch that brought it here, enter
// ring 3.
extern "C" [[noreturn]] void thread_first_run(kernel::arch::TrapFrame* frame) {
    kernel::sched::finish_switch_for_new_thread();
    kernel::arch::return_to_user(frame);
}
