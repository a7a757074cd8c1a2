// Exception dispatch. A fault in ring 3 becomes a signal for the program; a fault in ring 0 is
// either a user-copy fault (fixed up to EFAULT) or a kernel bug (panic with registers and a
// backtrace).
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/idt.h"
#include "kernel/arch/x86_64/irq.h"
#include "kernel/arch/x86_64/apic.h"
#include "kernel/sched/scheduler.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/arch/x86_64/power.h"
#include "kernel/arch/x86_64/trap_frame.h"
#include "kernel/arch/x86_64/user_copy.h"
#include "kernel/proc/lifecycle.h"
#include "kernel/debug/panic.h"
#include "kernel/debug/registers.h"
#include "kernel/mm/page_fault.h"
#include "kernel/proc/signal_state.h"

extern "C" void syscall_entry();
extern "C" void syscall_dispatch(kernel::arch::TrapFrame* frame);

namespace kernel::arch {

const char* vector_name(int vector) {
    static const char* const names[32] = {
        "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
        "#BR bound range", "#UD invalid opcode", "#NM device not available", "#DF double fault",
        "coprocessor overrun", "#TS invalid TSS", "#NP segment not present", "#SS stack fault",
        "#GP general protection", "#PF page fault", "reserved", "#MF x87 error",
        "#AC alignment check", "#MC machine check", "#XM SIMD error", "#VE virtualization",
        "#CP control protection", "reserved", "reserved", "reserved", "reserved", "reserved",
        "reserved", "#HV hypervisor injection", "#VC VMM communication", "#SX security",
        "reserved"};
    return vector >= 0 && vector < 32 ? names[vector] : "interrupt";
}

namespace {

[[noreturn]] void kernel_fault(TrapFrame& frame, uint64_t fault_address) {
    kprint("\nKERNEL FAULT: {} (vector {}, error code {:#x})\n", vector_name(int(frame.vector)),
           frame.vector, frame.error_code);
    if (frame.vector == kVectorPageFault) kprint("fault address: {:#018x}\n", fault_address);
    debug::print_registers(frame);
    debug::print_backtrace(frame.rbp, frame.rip);
    proc::end_after_panic();
}

}  // namespace

// Some nested hypervisors (seen on this project's CI machines: KVM nested on AMD) execute a
// guest's `syscall` from ring 3 without entering ring 0: RIP becomes LSTAR but CPL stays 3, so
// the first fetch of syscall_entry faults as a user access. That fault is the syscall: serve it
// here through the IDT path (correct stack switch) and return with iretq to RCX/R11, exactly
// what sysret would have restored. Costs nothing where `syscall` works.
bool is_misdelivered_syscall(const TrapFrame& frame) {
    constexpr uint64_t kFetchFault = 1 << 4;
    return frame.vector == kVectorPageFault && frame.from_user() &&
           (frame.error_code & kFetchFault) &&
           frame.rip == reinterpret_cast<uint64_t>(&syscall_entry);
}

void serve_misdelivered_syscall(TrapFrame& frame) {
    frame.rip = frame.rcx;
    frame.rflags = frame.r11;
    frame.cs = kUserCs;
    frame.ss = kUserDs;
    frame.vector = uint64_t(-1);
    syscall_dispatch(&frame);
}

}  // namespace kernel::arch

extern "C" void handle_trap(kernel::arch::TrapFrame* frame) {
    using namespace kernel::arch;
    int vector = int(frame->vector);
    if (vector == 255) return;  // spurious
    if (vector == kVectorTimer) {
        kernel::sched::timer_interrupt();
        if (frame->from_user()) kernel::sched::return_to_user_point(*frame);
        return;
    }
    if (dispatch_device_irq(vector)) {
        if (frame->from_user()) kernel::sched::return_to_user_point(*frame);
        return;
    }
    if (is_misdelivered_syscall(*frame)) {
        serve_misdelivered_syscall(*frame);
        return;
    }
    uint64_t fault_address = vector == kVectorPageFault ? read_cr2() : 0;

    if (vector == kVectorPageFault) {
        if (kernel::mm::handle_page_fault(*frame, fault_address)) {
            if (frame->from_user()) kernel::sched::return_to_user_point(*frame);
            return;
        }
        if (!frame->from_user() && apply_user_copy_fixup(*frame)) return;
    }
    if (frame->from_user()) {
        // A signal: the program's handler when it has one, else the crash report.
        kernel::proc::user_fault(*frame, vector, fault_address);
        kernel::sched::return_to_user_point(*frame);
        return;
    }
    kernel_fault(*frame, fault_address);
}
