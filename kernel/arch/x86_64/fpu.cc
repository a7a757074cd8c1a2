#include "kernel/arch/x86_64/fpu.h"

#include <cstdint>

#include "kernel/arch/x86_64/cpu_features.h"

namespace kernel::arch {

namespace {

// The legacy (FXSAVE) region: FCW at offset 0, MXCSR at 24. XSAVE's header follows at 512.
constexpr size_t kFcw = 0, kMxcsr = 24;
constexpr uint16_t kFcwDefault = 0x37f;
constexpr uint32_t kMxcsrDefault = 0x1f80;

uint32_t low(uint64_t value) { return uint32_t(value); }
uint32_t high(uint64_t value) { return uint32_t(value >> 32); }

}  // namespace

size_t fpu_area_size() { return cpu().xsave ? cpu().xsave_size : 512; }

void fpu_init_area(void* area) {
    auto* bytes = static_cast<unsigned char*>(area);
    __builtin_memset(bytes, 0, fpu_area_size());
    uint16_t fcw = kFcwDefault;
    uint32_t mxcsr = kMxcsrDefault;
    __builtin_memcpy(bytes + kFcw, &fcw, sizeof fcw);
    __builtin_memcpy(bytes + kMxcsr, &mxcsr, sizeof mxcsr);
    // XSAVE header (XSTATE_BV at 512) all zero: every component in its initial state except
    // what the legacy region holds, which XRSTOR then ignores; set x87|SSE so it is used.
    if (cpu().xsave) {
        uint64_t xstate_bv = 3;
        __builtin_memcpy(bytes + 512, &xstate_bv, sizeof xstate_bv);
    }
}

void fpu_save(void* area) {
    if (cpu().xsave)
        asm volatile("xsave64 (%0)" ::"r"(area), "a"(low(cpu().xcr0)), "d"(high(cpu().xcr0)) : "memory");
    else
        asm volatile("fxsave64 (%0)" ::"r"(area) : "memory");
}

void fpu_restore(const void* area) {
    if (cpu().xsave)
        asm volatile("xrstor64 (%0)" ::"r"(area), "a"(low(cpu().xcr0)), "d"(high(cpu().xcr0)) : "memory");
    else
        asm volatile("fxrstor64 (%0)" ::"r"(area) : "memory");
}

}  // namespace kernel::arch
