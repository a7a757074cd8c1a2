// `phx.selftest=NAME` on the command line: a deliberate kernel failure after boot, so that
// tests see the kernel's crash paths and hardening work end to end.
#pragma once

#include <string_view>

namespace kernel::boot {

// Runs the test the command line names, if any; each known test ends in a panic.
void run_selftest(std::string_view cmdline);

}  // namespace kernel::boot
