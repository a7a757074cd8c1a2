// What the VM left behind, turned into phx's exit status: the status channel's lines
// (docs/boot-protocol.md) first, the isa-debug-exit code as a fallback.
#pragma once

#include <string_view>

#include "phx/runners/child_process.h"

namespace phx {

// The program's exit status (0..255). Throws PhxError: kExitVmFailed for "panic", for a VM
// that reported nothing, or for a hypervisor killed by a signal; 128+S when phx forwarded
// signal S and the VM reported nothing.
int vm_exit_status(std::string_view status_text, const ChildExit& hypervisor);

// True when the guest reset: QEMU (-no-reboot) exited 0 on its own, with no status line.
bool guest_reset(std::string_view status_text, const ChildExit& hypervisor);

}  // namespace phx
