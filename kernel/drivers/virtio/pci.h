// virtio over PCI: finds vendor 0x1af4 functions on the PCI buses, drives each through its
// modern interface (the 4.1.4 capabilities) or, for a transitional device without one, the
// legacy interface; places BARs the firmware left unassigned, maps and enables the device
// (memory or I/O decoding, bus mastering; INTx off, since drivers poll) and registers it
// (transport.h). Logs one line per device ("virtio-pci: block at 00:03.0 (modern)").
#pragma once

#include <span>

#include "kernel/mm/frames.h"

namespace kernel::drivers::virtio {

// Needs the heap, the kernel page tables and the clock; call once at boot. Costs two port
// accesses on a machine without PCI (microvm, Phoenix's VMM).
void discover_pci_devices(std::span<const mm::PhysRange> ram);

}  // namespace kernel::drivers::virtio
