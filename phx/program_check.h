// Reading and validating the program phx is asked to run.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace phx {

// The program's bytes, after checking (through lib/elf) that it is a static x86-64 Linux ELF
// executable. Throws PhxError(kExitUsage) naming the file and the problem otherwise: missing,
// unreadable, not ELF, 32-bit, another architecture, dynamically linked, malformed.
std::vector<std::byte> load_program(const std::string& path);

}  // namespace phx
