// Threads: creation (stack, FP area, the first switch frame) and the table of live threads.
#include "kernel/sched/thread.h"

#include "kernel/arch/x86_64/fpu.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/mm/frames.h"
#include "kernel/mm/heap.h"
#include "kernel/mm/kernel_stack.h"
#include "kernel/sched/scheduler.h"

extern "C" void thread_trampoline();

namespace kernel::sched {

namespace {

Thread* g_threads = nullptr;  // every live thread, newest first
int g_next_tid = 2;  // the first thread is the process: tid = pid = 1

// What switch_context pops before it returns to thread_trampoline.
struct SwitchFrame {
    uint64_t r15, r14, r13, r12, rbx, rbp;
    uint64_t return_address;
};

void wake_timer_fired(Timer& timer);

size_t fpu_pages() { return (arch::fpu_area_size() + arch::kPageSize - 1) / arch::kPageSize; }

}  // namespace

Thread::Thread(int id) : tid(id), wake_timer(wake_timer_fired, this) {}

lib::Result<Thread*> Thread::create(int tid) {
    auto* thread = new (std::nothrow) Thread(tid);
    if (!thread) return lib::Errno::NoMem;
    auto stack = mm::try_allocate_kernel_stack();
    auto fpu = mm::alloc_frames(fpu_pages());
    if (stack.is_error() || fpu.is_error()) {
        if (stack.has_value()) mm::free_kernel_stack(stack.value());
        if (fpu.has_value()) mm::free_frames(fpu.value(), fpu_pages());
        delete thread;
        return lib::Errno::NoMem;
    }
    thread->kernel_stack_top = stack.value();
    thread->fpu = arch::phys_to_virt(fpu.value());
    // XSAVE writes only the header's XSTATE_BV: the rest of the header must already be zero,
    // or XRSTOR faults (#GP). A valid initial state covers that.
    arch::fpu_init_area(thread->fpu);
    thread->all_next = g_threads;
    g_threads = thread;
    return thread;
}

Thread::~Thread() {
    for (Thread** link = &g_threads; *link; link = &(*link)->all_next) {
        if (*link == this) {
            *link = all_next;
            break;
        }
    }
    wake_timer.cancel();
    if (kernel_stack_top) mm::free_kernel_stack(kernel_stack_top);
    if (fpu) mm::free_frames(arch::virt_to_phys(fpu), fpu_pages());
}

void Thread::start_with(const arch::TrapFrame& user) {
    // Top of the stack: the user frame (where an entry from ring 3 would put it), then the
    // frame switch_context pops on its way to thread_trampoline.
    auto* user_frame = reinterpret_cast<arch::TrapFrame*>(kernel_stack_top - sizeof(arch::TrapFrame));
    *user_frame = user;
    frame = user_frame;
    auto* first = reinterpret_cast<SwitchFrame*>(user_frame) - 1;
    *first = {};
    first->return_address = reinterpret_cast<uint64_t>(&thread_trampoline);
    saved_rsp = reinterpret_cast<uint64_t>(first);
}

Thread* thread_by_tid(int tid) {
    for (Thread* thread = g_threads; thread; thread = thread->all_next)
        if (thread->tid == tid && thread->state != ThreadState::Dead) return thread;
    return nullptr;
}

int next_tid() { return g_next_tid++; }
int live_thread_count() {
    int live = 0;
    for (Thread* thread = g_threads; thread; thread = thread->all_next)
        live += thread->state != ThreadState::Dead;
    return live;
}
Thread* first_thread() { return g_threads; }

namespace {

void wake_timer_fired(Timer& timer) {
    wake(*static_cast<Thread*>(timer.context()), WakeReason::TimedOut);
}

}  // namespace

}  // namespace kernel::sched
