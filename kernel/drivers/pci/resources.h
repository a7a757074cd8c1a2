// Addresses for BARs the firmware left unassigned. qboot (QEMU's fast firmware, which this
// project uses for q35) assigns none and leaves that to the OS; SeaBIOS, OVMF and the
// clouds' firmware assign every BAR, and this code is not used there.
#pragma once

#include <cstdint>
#include <span>

#include "kernel/drivers/pci/bar.h"
#include "kernel/drivers/pci/bus.h"
#include "kernel/mm/frames.h"
#include "lib/base/result.h"

namespace kernel::drivers::pci {

// Gives the unassigned `bar` (BAR `index` of the function at `address`) an address aligned to
// its size: memory in the 32-bit PCI hole that q35 and i440fx leave below the I/O APIC,
// [0xc0000000, 0xfec00000), never over RAM; I/O in [0xc000, 0x10000). A function behind a
// PCI-PCI bridge on bus 0 (a PCIe root port) gets memory from a window the bridge is given the
// first time (programmed, forwarding memory and bus mastering); deeper buses, a bridge window
// the firmware already set, and I/O behind a bridge are OpNotSupp. NoSpc when a window is
// full, Io when the BAR does not keep the address. FIXME(#4): a firmware that assigned some
// BARs and left others could have used the same window; none is known to.
lib::ErrorOr assign_bar(const FunctionList& functions, Address address, uint8_t index, Bar& bar,
                        std::span<const mm::PhysRange> ram);

}  // namespace kernel::drivers::pci
