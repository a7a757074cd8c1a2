// The exception table lookup for faulting user copies.
#include "kernel/arch/x86_64/user_copy.h"

namespace {

struct ExceptionTableEntry {
    uint64_t instruction;
    uint64_t fixup;
};

}  // namespace

extern "C" const ExceptionTableEntry __ex_table_start[];
extern "C" const ExceptionTableEntry __ex_table_end[];

namespace kernel::arch {

bool apply_user_copy_fixup(TrapFrame& frame) {
    for (const ExceptionTableEntry* e = __ex_table_start; e != __ex_table_end; ++e) {
        if (e->instruction == frame.rip) {
            frame.rip = e->fixup;
            return true;
        }
    }
    return false;
}

}  // namespace kernel::arch
