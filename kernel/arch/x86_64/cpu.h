// Thin wrappers over x86-64 instructions the kernel needs: port I/O, MSRs, control registers,
// CPUID, TSC. Nothing here allocates or takes locks.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kernel::arch {

inline void outb(uint16_t port, uint8_t value) {
    asm volatile("outb %0, %1" ::"a"(value), "Nd"(port));
}
// `count` bytes to one port with a single `rep outsb`: under KVM one exit for the whole string.
inline void outsb(uint16_t port, const void* bytes, size_t count) {
    asm volatile("rep outsb" : "+S"(bytes), "+c"(count) : "d"(port) : "memory");
}
inline void outl(uint16_t port, uint32_t value) {
    asm volatile("outl %0, %1" ::"a"(value), "Nd"(port));
}
inline uint8_t inb(uint16_t port) {
    uint8_t value;
    asm volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

inline uint64_t rdmsr(uint32_t msr) {
    uint32_t lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return uint64_t(hi) << 32 | lo;
}
inline void wrmsr(uint32_t msr, uint64_t value) {
    asm volatile("wrmsr" ::"c"(msr), "a"(uint32_t(value)), "d"(uint32_t(value >> 32)));
}

inline uint64_t read_cr0() {
    uint64_t v;
    asm volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}
inline void write_cr0(uint64_t v) { asm volatile("mov %0, %%cr0" ::"r"(v) : "memory"); }
inline uint64_t read_cr2() {
    uint64_t v;
    asm volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}
inline uint64_t read_cr3() {
    uint64_t v;
    asm volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}
inline void write_cr3(uint64_t v) { asm volatile("mov %0, %%cr3" ::"r"(v) : "memory"); }
inline uint64_t read_cr4() {
    uint64_t v;
    asm volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}
inline void write_cr4(uint64_t v) { asm volatile("mov %0, %%cr4" ::"r"(v) : "memory"); }
inline void xsetbv(uint32_t reg, uint64_t value) {
    asm volatile("xsetbv" ::"c"(reg), "a"(uint32_t(value)), "d"(uint32_t(value >> 32)));
}

struct CpuidResult {
    uint32_t eax, ebx, ecx, edx;
};
inline CpuidResult cpuid(uint32_t leaf, uint32_t subleaf = 0) {
    CpuidResult r;
    asm volatile("cpuid"
                 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                 : "a"(leaf), "c"(subleaf));
    return r;
}

inline uint64_t rdtsc() {
    uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return uint64_t(hi) << 32 | lo;
}

inline void invlpg(uint64_t va) { asm volatile("invlpg (%0)" ::"r"(va) : "memory"); }
inline void pause() { asm volatile("pause"); }
inline void cli() { asm volatile("cli" ::: "memory"); }
inline void sti() { asm volatile("sti" ::: "memory"); }
[[noreturn]] inline void halt_forever() {
    for (;;) asm volatile("cli; hlt");
}

// MSR numbers (Intel SDM vol. 4).
inline constexpr uint32_t kMsrEfer = 0xc0000080;
inline constexpr uint32_t kMsrStar = 0xc0000081;
inline constexpr uint32_t kMsrLstar = 0xc0000082;
inline constexpr uint32_t kMsrFmask = 0xc0000084;
inline constexpr uint32_t kMsrFsBase = 0xc0000100;
inline constexpr uint32_t kMsrGsBase = 0xc0000101;
inline constexpr uint32_t kMsrKernelGsBase = 0xc0000102;

inline constexpr uint64_t kEferSce = 1 << 0;
inline constexpr uint64_t kEferNxe = 1 << 11;

inline constexpr uint64_t kCr0Mp = 1 << 1;
inline constexpr uint64_t kCr0Em = 1 << 2;
inline constexpr uint64_t kCr0Wp = 1 << 16;
inline constexpr uint64_t kCr4Osfxsr = 1 << 9;
inline constexpr uint64_t kCr4Osxmmexcpt = 1 << 10;
inline constexpr uint64_t kCr4Umip = 1 << 11;
inline constexpr uint64_t kCr4Osxsave = 1 << 18;
inline constexpr uint64_t kCr4Smep = 1 << 20;
inline constexpr uint64_t kCr4Smap = 1 << 21;

}  // namespace kernel::arch
