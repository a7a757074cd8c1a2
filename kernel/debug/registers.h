// Register dumps for crash reports and kernel faults.
#pragma once

#include "kernel/arch/x86_64/trap_frame.h"

namespace kernel::debug {

void print_registers(const arch::TrapFrame& frame);

}  // namespace kernel::debug
