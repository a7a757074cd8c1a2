// The kernel's stack protector (-fstack-protector-strong -mstack-protector-guard=global): one
// global canary, __stack_chk_guard, per boot from the CSPRNG.
#pragma once

#include <cstdint>

namespace kernel::runtime {

// Sets the canary. Only from a function without a protector while no protected frame is live
// on any stack (kernel_boot_main, before the first thread): those would fail their check.
[[gnu::no_stack_protector]] void set_stack_guard(uint64_t value);

}  // namespace kernel::runtime
