// The IDT: exception vectors 0-31, the timer and the device vectors (irq.h) go to the stubs
// of interrupt_entry.S; the rest to a spurious-vector stub.
#include "kernel/arch/x86_64/idt.h"

#include "kernel/arch/x86_64/apic.h"
#include "kernel/arch/x86_64/irq.h"

#include <cstdint>

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/layout.h"

extern "C" const uint64_t trap_stub_table[32];
extern "C" void trap_stub_spurious();
extern "C" void trap_stub_32();
extern "C" const uint64_t irq_stub_table[16];

namespace kernel::arch {

namespace {

struct [[gnu::packed]] Gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
};

struct [[gnu::packed]] IdtPointer {
    uint16_t limit;
    uint64_t base;
};

alignas(16) Gate g_idt[256];

void set_gate(int vector, uint64_t handler, uint8_t ist, uint8_t dpl) {
    g_idt[vector] = Gate{uint16_t(handler), kKernelCs, ist, uint8_t(0x8e | dpl << 5),
                         uint16_t(handler >> 16), uint32_t(handler >> 32), 0};
}

}  // namespace

void init_idt() {
    for (int v = 0; v < 256; ++v)
        set_gate(v, reinterpret_cast<uint64_t>(&trap_stub_spurious), 0, 0);
    for (int v = 0; v < 32; ++v) set_gate(v, trap_stub_table[v], 0, 0);
    set_gate(kVectorTimer, reinterpret_cast<uint64_t>(&trap_stub_32), 0, 0);
    for (int i = 0; i < kDeviceVectorCount; ++i)
        set_gate(kFirstDeviceVector + i, irq_stub_table[i], 0, 0);
    // int3 and into from ring 3 must raise #BP/#OF, not #GP.
    set_gate(kVectorBreakpoint, trap_stub_table[kVectorBreakpoint], 0, 3);
    set_gate(kVectorOverflow, trap_stub_table[kVectorOverflow], 0, 3);

    IdtPointer idtr{sizeof(g_idt) - 1, reinterpret_cast<uint64_t>(g_idt)};
    asm volatile("lidt %0" ::"m"(idtr));
    // Mask both 8259s: no legacy interrupt is used, and a firmware may leave one running
    // (SeaBIOS leaves the PIT's IRQ 0 on, delivered at vector 8: a "double fault" at the
    // first tick). Where there is no PIC (Phoenix's VMM) the writes go nowhere.
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}

void use_ist_stacks() {
    set_gate(kVectorDoubleFault, trap_stub_table[kVectorDoubleFault], 1, 0);
    set_gate(kVectorNmi, trap_stub_table[kVectorNmi], 2, 0);
    set_gate(kVectorMachineCheck, trap_stub_table[kVectorMachineCheck], 3, 0);
}

}  // namespace kernel::arch
