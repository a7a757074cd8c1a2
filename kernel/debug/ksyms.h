// The kernel's own symbol table (.ksyms, generated from the first link by
// scripts/gen-ksyms), for symbolized backtraces.
#pragma once

#include <cstdint>
#include <string_view>

namespace kernel::debug {

// "function+0x1f", or "?" outside any known function. The text lives in a static buffer:
// use it before the next call.
std::string_view symbolize(uint64_t address);

}  // namespace kernel::debug
