// Page faults on user addresses: demand paging through the current address space.
#pragma once

#include <cstdint>

#include "kernel/arch/x86_64/trap_frame.h"

namespace kernel::mm {

// True when the fault was resolved and the faulting instruction can be retried.
bool handle_page_fault(const arch::TrapFrame& frame, uint64_t address);

}  // namespace kernel::mm
