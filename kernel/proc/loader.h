// Starting the program: the ELF from the manifest is mapped into a fresh address space with
// the Linux initial stack, and the CPU drops to ring 3 at its entry point.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "lib/base/result.h"

namespace kernel::fs {
class Inode;
}

namespace kernel::proc {

// A read-only kernel view of a whole file whose pages are read from the page cache only when
// touched (the loader parses ELF files in place through one; crash reports read symbol
// tables). Views are few (kernel/mm/kernel_window.h) and last for good, as does the inode:
// the caller's reference is kept.
lib::Result<std::span<const std::byte>> view_file(fs::Inode& inode);

[[noreturn]] void start_program(std::span<const std::byte> manifest, std::string_view cmdline);

}  // namespace kernel::proc
