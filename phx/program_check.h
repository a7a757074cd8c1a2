// Reading and validating the program phx is asked to run.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace phx {

struct ProgramFile {
    std::vector<std::byte> bytes;
    bool dynamic = false;  // names an interpreter (PT_INTERP): it needs a disk image
};

// The program's bytes, after checking (through lib/elf) that it is an x86-64 Linux ELF
// executable. Throws PhxError(kExitUsage) naming the file and the problem otherwise: missing,
// unreadable, not ELF, 32-bit, another architecture, malformed.
ProgramFile load_program(const std::string& path);

// Whether `path` is a Phoenix disk image (an MBR whose first partition is Linux at 1 MiB).
bool is_disk_image(const std::string& path);

}  // namespace phx
