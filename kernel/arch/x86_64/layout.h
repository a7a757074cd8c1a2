// The kernel's virtual address layout. The user half is [0, kUserEnd); everything the kernel
// owns lives in the upper half.
#pragma once

#include <cstdint>

namespace kernel::arch {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint64_t kUserEnd = 0x0000'8000'0000'0000;  // first non-user address
// All physical memory, mapped 1:1 at this offset (the "physmap").
inline constexpr uint64_t kPhysmapBase = 0xffff'8000'0000'0000;
// Kernel windows: device registers (virtio-mmio, mapped uncached by mm::map_mmio) and
// read-only views of file pages (mm::reserve_kernel_window).
inline constexpr uint64_t kMmioRegionBase = 0xffff'c000'0000'0000;
inline constexpr uint64_t kMmioRegionSize = 1ull << 39;  // one PML4 slot
// Kernel thread stacks, each below an unmapped guard page.
inline constexpr uint64_t kStackRegionBase = 0xffff'e000'0000'0000;
// The kernel image's link-time base (-mcmodel=kernel: the top 2 GiB). At run time the image
// sits kernel_slide() above it (kaslr.h).
inline constexpr uint64_t kKernelBase = 0xffff'ffff'8000'0000;

template <typename T = void>
inline T* phys_to_virt(uint64_t phys) {
    return reinterpret_cast<T*>(kPhysmapBase + phys);
}

inline uint64_t virt_to_phys(const void* physmap_address) {
    return reinterpret_cast<uint64_t>(physmap_address) - kPhysmapBase;
}

uint64_t kernel_virt_base();  // kaslr.h
uint64_t kernel_phys_base();

// Physical address of a kernel-image symbol (the image runs at kernel_virt_base() + offset,
// loaded at kernel_phys_base() + offset).
inline uint64_t image_to_phys(const void* image_address) {
    return reinterpret_cast<uint64_t>(image_address) - kernel_virt_base() + kernel_phys_base();
}

// GDT selectors; the order is fixed by syscall/sysret (see gdt.cc).
inline constexpr uint16_t kKernelCs = 0x08;
inline constexpr uint16_t kKernelDs = 0x10;
inline constexpr uint16_t kUserDs = 0x20 | 3;
inline constexpr uint16_t kUserCs = 0x28 | 3;
inline constexpr uint16_t kTss = 0x30;

}  // namespace kernel::arch
