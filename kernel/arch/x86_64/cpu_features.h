// What this CPU offers, read once from CPUID at boot.
#pragma once

#include <cstdint>

namespace kernel::arch {

struct CpuFeatures {
    bool rdrand = false;
    bool rdseed = false;
    bool smep = false;
    bool smap = false;
    bool umip = false;
    bool xsave = false;          // XSAVE saves thread FP state (else FXSAVE: x87 and SSE only)
    bool x2apic = false;
    bool tsc_deadline = false;
    bool avx = false;
    bool avx512 = false;
    bool pdpe1gb = false;
    bool invariant_tsc = false;
    bool hypervisor = false;
    bool kvm = false;            // KVM's CPUID signature
    uint32_t kvm_features = 0;   // CPUID 0x40000001 EAX
    uint32_t hypervisor_max_leaf = 0;
    uint64_t hwcap = 0;          // CPUID 1 EDX, as Linux reports in AT_HWCAP
    uint64_t xcr0 = 0;           // what we enabled
    uint32_t xsave_size = 512;   // bytes of FP/vector state (FXSAVE area when no XSAVE)
    char vendor[13] = {};
};

const CpuFeatures& cpu();
void detect_cpu_features();
// CR0/CR4/XCR0. `fxsave_only` (`phx.fpu=fxsave`): the hypervisor cannot run XSAVE in ring 0,
// so XCR0 stays x87|SSE (programs then do not use AVX state a context switch would lose).
void enable_cpu_features(bool fxsave_only);

// Turns on SSE/XSAVE for user programs and the protections the CPU has (SMEP, SMAP, UMIP).

}  // namespace kernel::arch
