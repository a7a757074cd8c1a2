// The program's call stack in a crash report: return addresses from the user stack, each
// named by the ELF symbols of the file mapped there (the program or a shared library).
#pragma once

#include "kernel/arch/x86_64/trap_frame.h"

namespace kernel::proc {

// Prints "backtrace:" and one line per frame, innermost first. Every read of the program's
// memory goes through copy_from_user, so a corrupt or hostile stack only ends the walk.
void print_user_backtrace(const arch::TrapFrame& frame);

}  // namespace kernel::proc
