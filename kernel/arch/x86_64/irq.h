// Device interrupts: sixteen vectors (0x30-0x3f) handed out to drivers, each with a handler
// that runs with interrupts off, from ring 3 or the idle loop (the kernel itself runs with
// interrupts off, so a handler never interrupts kernel code). Handlers may wake threads and
// arm timers, like timer callbacks; they never block.
#pragma once

#include <cstdint>

#include "lib/base/result.h"

namespace kernel::arch {

inline constexpr int kFirstDeviceVector = 0x30;
inline constexpr int kDeviceVectorCount = 16;

using IrqHandler = void (*)(void* context);

// A free vector now routed to `handler`; NoSpc when all are taken.
lib::Result<int> allocate_irq_vector(IrqHandler handler, void* context);
// Called by the trap path for a device vector: acknowledges it at the local APIC and runs its
// handler. False when `vector` is not a device vector.
bool dispatch_device_irq(int vector);
// The local APIC ID of this CPU (the destination of device interrupts).
uint32_t apic_id();

}  // namespace kernel::arch
