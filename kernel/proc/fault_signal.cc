// Synchronous faults in ring 3 as signals, with Linux's siginfo for each exception
// (arch/x86/kernel/traps.c, mm/fault.c): the program's handler runs when it installed one and
// does not block the signal; otherwise (blocked, ignored or SIG_DFL) the signal is forced
// with its default action, the crash report. Go's and the JVM's runtimes live on this.
#include "kernel/arch/x86_64/fpu.h"
#include "kernel/arch/x86_64/idt.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/proc/crash.h"
#include "kernel/proc/process.h"
#include "kernel/proc/signal_delivery.h"
#include "kernel/proc/signal_state.h"
#include "kernel/sched/thread.h"

namespace kernel::proc {

namespace {

SigInfo make_info(int signal, int code, uint64_t address) {
    SigInfo info{};
    info.signo = signal;
    info.code = code;
    info.fault.addr = address;
    return info;
}

// Linux's fpu__exception_code(): the first unmasked exception flag that is set.
int fp_exception_code(int vector) {
    sched::Thread& self = sched::current();
    arch::fpu_save(self.fpu);
    const auto* area = static_cast<const uint8_t*>(self.fpu);
    uint32_t flags;
    if (vector == arch::kVectorSimd) {
        uint32_t mxcsr;
        __builtin_memcpy(&mxcsr, area + kMxcsrOffset, sizeof mxcsr);
        flags = ~(mxcsr >> 7) & mxcsr;
    } else {
        uint16_t control, status;
        __builtin_memcpy(&control, area + 0, sizeof control);
        __builtin_memcpy(&status, area + 2, sizeof status);
        flags = status & ~uint32_t(control);
    }
    if (flags & 0x001) return kFpeFltinv;
    if (flags & 0x004) return kFpeFltdiv;
    if (flags & 0x008) return kFpeFltovf;
    if (flags & 0x012) return kFpeFltund;
    if (flags & 0x020) return kFpeFltres;
    return 0;
}

// SEGV_ACCERR where an area maps the address (the access broke its protection), else
// SEGV_MAPERR.
int page_fault_code(uint64_t address) {
    if (address >= arch::kUserEnd || !has_current()) return kSegvMaperr;
    return current().address_space().areas().find(address) ? kSegvAccerr : kSegvMaperr;
}

SigInfo fault_info(const arch::TrapFrame& frame, int vector, uint64_t fault_address) {
    switch (vector) {
        case arch::kVectorDivide:
            return make_info(kSigFpe, kFpeIntdiv, frame.rip);
        case arch::kVectorDebug:
            return make_info(kSigTrap, kTrapTrace, frame.rip);
        case arch::kVectorBreakpoint:
            return make_info(kSigTrap, kSiKernel, 0);
        case arch::kVectorInvalidOpcode:
            return make_info(kSigIll, kIllIllopn, frame.rip);
        case arch::kVectorStackFault:
            return make_info(kSigBus, kSiKernel, 0);
        case arch::kVectorPageFault:
            return make_info(kSigSegv, page_fault_code(fault_address), fault_address);
        case arch::kVectorX87:
        case arch::kVectorSimd:
            return make_info(kSigFpe, fp_exception_code(vector), frame.rip);
        case arch::kVectorAlignmentCheck:
            return make_info(kSigBus, kBusAdraln, 0);
        default:  // #GP (cli, hlt, a non-canonical address...), #NP, #TS, #OF, #BR
            return make_info(kSigSegv, kSiKernel, 0);
    }
}

// To the handler, or the default action whatever the program set up.
void raise_fault(arch::TrapFrame& frame, const SigInfo& info, uint64_t report_address,
                 const char* cause) {
    sched::Thread& self = sched::current();
    int signal = info.signo;
    if (has_handler(signal) && !(self.signals.blocked & sig_bit(signal))) {
        run_handler(frame, self, info);
        return;
    }
    crash(frame, signal, report_address, cause);
}

}  // namespace

void user_fault(arch::TrapFrame& frame, int vector, uint64_t fault_address) {
    raise_fault(frame, fault_info(frame, vector, fault_address), fault_address, nullptr);
}

void force_fault_signal(arch::TrapFrame& frame, const SigInfo& info) {
    raise_fault(frame, info, info.fault.addr, "a bad signal frame at rt_sigreturn");
}

}  // namespace kernel::proc
