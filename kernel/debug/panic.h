// panic(): for broken kernel invariants only, never for bad input. Prints the message, the
// caller's backtrace, and stops the VM with the panic status.
#pragma once

#include <string_view>

#include "kernel/console/log.h"

namespace kernel::debug {

[[noreturn]] void panic_stop();
void print_backtrace(uint64_t rbp, uint64_t rip);

}  // namespace kernel::debug

namespace kernel {

template <typename... Args>
[[noreturn]] void panic(std::string_view fmt, const Args&... args) {
    kprint("\nPANIC: ");
    kprint(fmt, args...);
    kprint("\n");
    debug::panic_stop();
}

}  // namespace kernel

#define PHX_ASSERT(cond)                                                                  \
    do {                                                                                  \
        if (!(cond)) [[unlikely]]                                                         \
            ::kernel::panic("assertion failed: {} at {}:{}", #cond, __FILE__, __LINE__); \
    } while (0)
