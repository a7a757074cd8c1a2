// Ending the VM and telling the runner why, over the status channel (docs/boot-protocol.md).
#pragma once

#include <cstdint>

namespace kernel::arch {

// Writes one line to the status channel (port 0x402); `line` excludes the newline.
void status_line(const char* line);

// The program ended with `status`: report "exit N" and power off.
[[noreturn]] void power_off(uint8_t status);

// Resets the machine: the i8042's reset line, else a triple fault. Under our VMM and QEMU
// (-no-reboot) the runner then boots a fresh VM; in a cloud the platform resets the instance.
[[noreturn]] void reset();

// A broken kernel invariant: report "panic" and power off with the distinct panic status.
[[noreturn]] void power_off_panic();

}  // namespace kernel::arch
