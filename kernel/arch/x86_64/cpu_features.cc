// CPUID probing and CR0/CR4/XCR0 setup.
#include "kernel/arch/x86_64/cpu_features.h"

#include "kernel/arch/x86_64/cpu.h"

namespace kernel::arch {

namespace {

CpuFeatures g_cpu;

constexpr uint64_t kXcr0X87 = 1 << 0;
constexpr uint64_t kXcr0Sse = 1 << 1;
constexpr uint64_t kXcr0Avx = 1 << 2;
constexpr uint64_t kXcr0Avx512 = (1 << 5) | (1 << 6) | (1 << 7);  // opmask, ZMM_Hi256, Hi16_ZMM

}  // namespace

const CpuFeatures& cpu() { return g_cpu; }

void detect_cpu_features() {
    auto leaf0 = cpuid(0);
    uint32_t max_leaf = leaf0.eax;
    __builtin_memcpy(g_cpu.vendor, &leaf0.ebx, 4);
    __builtin_memcpy(g_cpu.vendor + 4, &leaf0.edx, 4);
    __builtin_memcpy(g_cpu.vendor + 8, &leaf0.ecx, 4);

    auto leaf1 = cpuid(1);
    g_cpu.hwcap = leaf1.edx;
    g_cpu.rdrand = leaf1.ecx & (1u << 30);
    g_cpu.xsave = leaf1.ecx & (1u << 26);
    g_cpu.avx = leaf1.ecx & (1u << 28);
    g_cpu.hypervisor = leaf1.ecx & (1u << 31);
    g_cpu.x2apic = leaf1.ecx & (1u << 21);
    g_cpu.tsc_deadline = leaf1.ecx & (1u << 24);
    if (max_leaf >= 7) {
        auto leaf7 = cpuid(7, 0);
        g_cpu.smep = leaf7.ebx & (1u << 7);
        g_cpu.smap = leaf7.ebx & (1u << 20);
        g_cpu.rdseed = leaf7.ebx & (1u << 18);
        g_cpu.avx512 = leaf7.ebx & (1u << 16);  // AVX512F
        g_cpu.umip = leaf7.ecx & (1u << 2);
    }
    auto ext = cpuid(0x80000000);
    if (ext.eax >= 0x80000001) g_cpu.pdpe1gb = cpuid(0x80000001).edx & (1u << 26);
    if (ext.eax >= 0x80000007) g_cpu.invariant_tsc = cpuid(0x80000007).edx & (1u << 8);

    if (g_cpu.hypervisor) {
        auto hv = cpuid(0x40000000);
        g_cpu.hypervisor_max_leaf = hv.eax;
        char signature[12];
        __builtin_memcpy(signature, &hv.ebx, 4);
        __builtin_memcpy(signature + 4, &hv.ecx, 4);
        __builtin_memcpy(signature + 8, &hv.edx, 4);
        g_cpu.kvm = __builtin_memcmp(signature, "KVMKVMKVM\0\0\0", 12) == 0;
        if (g_cpu.kvm && hv.eax >= 0x40000001) g_cpu.kvm_features = cpuid(0x40000001).eax;
    }
}

void enable_cpu_features(bool fxsave_only) {
    if (fxsave_only) g_cpu.xsave = false;
    uint64_t cr0 = read_cr0();
    cr0 &= ~kCr0Em;
    cr0 |= kCr0Mp | kCr0Wp;
    write_cr0(cr0);

    uint64_t cr4 = read_cr4() | kCr4Osfxsr | kCr4Osxmmexcpt;
    if (g_cpu.smep) cr4 |= kCr4Smep;
    if (g_cpu.smap) cr4 |= kCr4Smap;
    if (g_cpu.umip) cr4 |= kCr4Umip;
    if (g_cpu.xsave) cr4 |= kCr4Osxsave;
    write_cr4(cr4);

    if (g_cpu.xsave) {
        auto supported = cpuid(0xd, 0);
        uint64_t available = supported.eax | uint64_t(supported.edx) << 32;
        uint64_t xcr0 = kXcr0X87 | kXcr0Sse;
        if (g_cpu.avx && (available & kXcr0Avx)) xcr0 |= kXcr0Avx;
        if (g_cpu.avx512 && (available & kXcr0Avx512) == kXcr0Avx512) xcr0 |= kXcr0Avx512;
        xsetbv(0, xcr0);
        g_cpu.xcr0 = xcr0;
        g_cpu.xsave_size = cpuid(0xd, 0).ebx;  // size for the features now enabled
    }
    // Start user programs with a clean x87 state (MXCSR already holds its reset value 0x1f80).
    asm volatile("fninit");
}

}  // namespace kernel::arch
