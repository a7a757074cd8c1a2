// Readable names for backtraces: Rust legacy (`_ZN...17h<hash>E`) and v0 (`_R...`) symbols and
// simple C++ Itanium names (nested and unscoped names, constructors, destructors; parameters
// and templates are left out). Anything else, or anything malformed, comes back unchanged.
// No allocation: the output goes to a caller's buffer.
#pragma once

#include <span>
#include <string_view>

namespace lib::elf {

// The demangled form of `name` in `buffer`, or `name` itself when it is not a mangled name
// understood here or its demangled form does not fit.
std::string_view demangle(std::string_view name, std::span<char> buffer);

}  // namespace lib::elf
