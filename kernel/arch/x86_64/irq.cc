// Device interrupt vectors and their handlers.
#include "kernel/arch/x86_64/irq.h"

#include "kernel/arch/x86_64/apic.h"

namespace kernel::arch {

namespace {

struct Slot {
    IrqHandler handler = nullptr;
    void* context = nullptr;
};

Slot g_slots[kDeviceVectorCount];

}  // namespace

lib::Result<int> allocate_irq_vector(IrqHandler handler, void* context) {
    for (int i = 0; i < kDeviceVectorCount; ++i) {
        if (g_slots[i].handler) continue;
        g_slots[i] = {handler, context};
        return kFirstDeviceVector + i;
    }
    return lib::Errno::NoSpc;
}

bool dispatch_device_irq(int vector) {
    int index = vector - kFirstDeviceVector;
    if (index < 0 || index >= kDeviceVectorCount) return false;
    // EOI first: an edge that arrives while the handler runs is then held in the IRR and
    // delivered after it, never lost (handlers also re-check their device before returning).
    apic_eoi();
    if (g_slots[index].handler) g_slots[index].handler(g_slots[index].context);
    return true;
}

}  // namespace kernel::arch
