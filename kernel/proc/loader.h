// Starting the program: the ELF from the manifest is mapped into a fresh address space with
// the Linux initial stack, and the CPU drops to ring 3 at its entry point.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace kernel::proc {

[[noreturn]] void start_program(std::span<const std::byte> manifest, std::string_view cmdline);

}  // namespace kernel::proc
