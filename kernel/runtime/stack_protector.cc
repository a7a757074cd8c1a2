// The stack protector's canary and its failure hook. Until set_stack_guard() the canary is a
// fixed constant: the code that runs that early is the same on every boot anyway.
#include "kernel/runtime/stack_protector.h"

#include "kernel/debug/panic.h"

extern "C" {

uint64_t __stack_chk_guard = 0x2f8e'61d0'5ab3'c700;

[[noreturn, gnu::no_stack_protector]] void __stack_chk_fail() {
    kernel::panic("stack smashing detected");
}

}  // extern "C"

namespace kernel::runtime {

void set_stack_guard(uint64_t value) {
    // A zero low byte, as glibc does: an overflow by a C string cannot copy the canary
    // through, nor print it.
    __stack_chk_guard = value & ~uint64_t(0xff);
}

}  // namespace kernel::runtime
