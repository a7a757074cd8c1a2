// Guest physical layout and the PVH boot data: where RAM is, where the kernel, start_info,
// the memory map, the command line and the modules go. Pure functions over GuestMemory, unit
// tested; the VM calls them for every fresh boot.
//
//   0x0000_0000  RAM (real-mode area: start_info 0x6000, modlist 0x6100, memmap 0x6200,
//                command line 0x7000..0x8000)
//   0x0010_0000  the kernel's PT_LOAD segments (their p_paddr, plus BootPlan::kernel_offset
//                for a relocatable kernel), then the modules, page-aligned
//   ...          RAM up to min(size, 3 GiB)
//   0xc000_0000  MMIO hole: virtio-mmio windows from 0xd000_0000, one 4 KiB window each
//   0x1_0000_0000 the rest of RAM when size > 3 GiB
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vmm/boot/kernel_image.h"
#include "vmm/error.h"
#include "vmm/memory/guest_memory.h"

namespace vmm {

inline constexpr uint64_t kLowRamLimit = 0xc000'0000;
inline constexpr uint64_t kHighRamBase = 0x1'0000'0000;
inline constexpr uint64_t kVirtioMmioBase = 0xd000'0000;
inline constexpr uint32_t kVirtioFirstIrq = 5;
inline constexpr uint64_t kStartInfoAddress = 0x6000;
inline constexpr uint64_t kModlistAddress = 0x6100;
inline constexpr uint64_t kMemmapAddress = 0x6200;
inline constexpr uint64_t kCmdlineAddress = 0x7000;
inline constexpr uint64_t kCmdlineMax = 0x1000;  // bytes, with the terminating NUL
inline constexpr size_t kMaxModules = 8;

struct RamRange {
    uint64_t base;
    uint64_t size;
};

// The RAM ranges for `bytes` of guest memory (bytes a multiple of 4 KiB).
std::vector<RamRange> ram_layout(uint64_t bytes);

struct BootPlan {
    std::string cmdline;
    std::vector<std::span<const std::byte>> modules;  // module 0: the manifest
    uint64_t kernel_offset = 0;  // added to every p_paddr and the entry point
};

struct KernelPlacement {
    uint64_t offset = 0;
    uint64_t choices = 0;  // how many offsets were possible (0: the kernel stays at p_paddr)
};

// A random physical place for a relocatable kernel (KernelImage::relocation()): its lowest
// segment at a multiple of the note's alignment within the note's bounds, above the boot data,
// and the kernel followed by `modules_bytes` of modules inside the RAM at address 0. `random`
// picks among the choices. A kernel without the note, or with no room, stays where it is.
KernelPlacement place_kernel(const GuestMemory& memory, const KernelImage& kernel,
                             uint64_t modules_bytes, uint64_t random);

// Copies the kernel and the modules into memory and writes start_info, the module list, the
// memory map and the command line. Returns start_info's guest address (for %ebx). Fails when
// something does not fit (the kernel outside RAM, modules too big, the command line too long).
Expected<uint64_t> write_pvh_boot(const GuestMemory& memory, const KernelImage& kernel,
                                  const BootPlan& plan);

}  // namespace vmm
