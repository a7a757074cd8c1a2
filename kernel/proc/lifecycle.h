// How the program's life ends for the VM: power off with its status, reset (a fresh VM with a
// fresh layout follows), or idle, as the manifest's exit policy says (lib/manifest/exit_policy.h).
// A kernel panic goes through the same policy as a failure.
#pragma once

#include <string_view>

namespace lib::manifest {
class Manifest;
}

namespace kernel::proc {

// Reads reboot_on_exit, expected_exit_code and idle_on_exit. False, with the offending key in
// bad_key, when one is malformed; the policy then stays "power off".
bool init_lifecycle(const lib::manifest::Manifest& manifest, std::string_view& bad_key);

// The program ended with `status` (0..255; 128+N for signal N): carry out the policy.
[[noreturn]] void exit_program(int status);

// The kernel panicked (the report is printed): reset when the policy reboots on failures,
// else power off reporting the panic.
[[noreturn]] void end_after_panic();

}  // namespace kernel::proc
