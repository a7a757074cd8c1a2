// Page-fault triage: a user address in a user-accessible area is demand-paged; anything else
// is left to the caller (a signal for the program, a fixup or a panic for the kernel).
#include "kernel/mm/page_fault.h"

#include "kernel/arch/x86_64/layout.h"
#include "kernel/console/log.h"
#include "kernel/mm/kernel_window.h"
#include "kernel/proc/process.h"

namespace kernel::mm {

namespace {

// #PF error code bits (Intel SDM vol. 3 §4.7).
constexpr uint64_t kPresent = 1 << 0;
constexpr uint64_t kWrite = 1 << 1;
constexpr uint64_t kUserMode = 1 << 2;
constexpr uint64_t kReservedBit = 1 << 3;
constexpr uint64_t kFetch = 1 << 4;

}  // namespace

bool handle_page_fault(const arch::TrapFrame& frame, uint64_t address) {
    // A kernel read of a lazy view (the loader parsing a file in place): map the page.
    if (address >= arch::kMmioRegionBase && address - arch::kMmioRegionBase < arch::kMmioRegionSize &&
        !(frame.error_code & (kUserMode | kPresent | kWrite | kFetch)))
        return handle_view_fault(address);
    if (address >= arch::kUserEnd || !proc::has_current()) return false;
    if (frame.error_code & kReservedBit) return false;
    // The kernel itself must never run user code (SMEP) and only touches user memory from the
    // copy routines; those faults are resolved here too, so copies see demand-paged memory.
    if (!(frame.error_code & kUserMode) && (frame.error_code & kFetch)) return false;
    Access access = frame.error_code & kFetch    ? Access::Execute
                    : frame.error_code & kWrite ? Access::Write
                                                 : Access::Read;
    auto& process = proc::current();
    bool resolved =
        process.address_space().handle_fault(address, access, frame.error_code & kPresent);
    if (process.debug().trace_faults)
        klog("page fault at {:#x} ({}{}) rip {:#x}: {}", address,
             access == Access::Write ? "write" : access == Access::Execute ? "exec" : "read",
             frame.error_code & kUserMode ? "" : " from kernel", frame.rip,
             resolved ? "mapped" : "refused");
    return resolved;
}

}  // namespace kernel::mm
