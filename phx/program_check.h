// Reading and validating the program phx is asked to run.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace phx {

// The program's bytes, after checking that it is a static x86-64 ELF executable. Throws
// PhxError(kExitUsage) naming the problem otherwise.
std::vector<std::byte> load_program(const std::string& path);

}  // namespace phx
