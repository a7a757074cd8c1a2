// The I/O APIC(s) that carry ISA-style interrupt lines (virtio-mmio devices announce theirs on
// the command line) to a vector of this CPU. Found at the architectural addresses: the first
// at 0xfec00000 with GSIs 0-23, and QEMU microvm's second (ioapic2) at 0xfec10000 from GSI 24.
#pragma once

#include <cstdint>

#include "lib/base/result.h"

namespace kernel::drivers {

// Routes global system interrupt `gsi` to `vector` on this CPU, edge-triggered, active high,
// unmasked. NoDev when no I/O APIC has that input.
lib::ErrorOr route_gsi(uint32_t gsi, int vector);

}  // namespace kernel::drivers
