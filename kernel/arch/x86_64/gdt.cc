// GDT, TSS and per-CPU data. Selector order is dictated by syscall/sysret: STAR.SYSRET base
// 0x18 makes user SS = 0x20|3 and user CS = 0x28|3 (see layout.h).
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/arch/x86_64/percpu.h"
#include "kernel/mm/kernel_stack.h"

namespace kernel::arch {

namespace {

struct [[gnu::packed]] Tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};

struct [[gnu::packed]] DescriptorPointer {
    uint16_t limit;
    uint64_t base;
};

alignas(16) uint64_t g_gdt[8];
Tss g_tss;
PerCpu g_percpu;

constexpr uint64_t kCode64 = 0x00209a0000000000;  // present, code, L=1
constexpr uint64_t kData = 0x0000920000000000;    // present, data, writable
constexpr uint64_t kDpl3 = 3ull << 45;

}  // namespace

PerCpu& this_cpu() { return g_percpu; }

void set_kernel_stack(uint64_t top) {
    g_tss.rsp[0] = top;
    g_percpu.kernel_rsp = top;
}

void init_cpu_tables() {
    g_gdt[0] = 0;
    g_gdt[1] = kCode64;          // 0x08 kernel code
    g_gdt[2] = kData;            // 0x10 kernel data
    g_gdt[3] = 0;                // 0x18 sysret base (32-bit user code; unused)
    g_gdt[4] = kData | kDpl3;    // 0x20 user data
    g_gdt[5] = kCode64 | kDpl3;  // 0x28 user code
    uint64_t base = reinterpret_cast<uint64_t>(&g_tss);
    uint64_t limit = sizeof(Tss) - 1;
    g_gdt[6] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ull << 40 |
               ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
    g_gdt[7] = base >> 32;

    g_tss.iomap_base = sizeof(Tss);  // no I/O permission bitmap: ring 3 gets no ports
    // Double fault, NMI and machine check run on their own stacks (IST 1-3).
    for (int i = 0; i < 3; ++i) g_tss.ist[i] = mm::allocate_kernel_stack();
    set_kernel_stack(mm::allocate_kernel_stack());

    DescriptorPointer gdtr{sizeof(g_gdt) - 1, reinterpret_cast<uint64_t>(g_gdt)};
    asm volatile("lgdt %0" ::"m"(gdtr));
    asm volatile(
        "mov %0, %%ds; mov %0, %%es; mov %0, %%ss;"
        "pushq %1; leaq 1f(%%rip), %%rax; pushq %%rax; lretq; 1:"
        :
        : "r"(uint32_t(kKernelDs)), "i"(uint64_t(kKernelCs))
        : "rax", "memory");
    asm volatile("ltr %w0" ::"r"(kTss));

    g_percpu.self = &g_percpu;
    wrmsr(kMsrGsBase, reinterpret_cast<uint64_t>(&g_percpu));
    wrmsr(kMsrKernelGsBase, 0);  // the user's GS base until the program sets one
}

}  // namespace kernel::arch
