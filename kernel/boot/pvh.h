// The PVH boot information (Xen public/arch-x86/hvm/start_info.h), copied into kernel-owned
// structures after validation: the hypervisor's pointers are not trusted blindly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "kernel/mm/frames.h"

namespace kernel::boot {

inline constexpr size_t kMaxMemoryRanges = 128;
inline constexpr size_t kMaxModules = 8;

struct BootModule {
    uint64_t phys;
    uint64_t size;
};

struct BootInfo {
    mm::PhysRange ram[kMaxMemoryRanges];
    size_t ram_count = 0;
    BootModule modules[kMaxModules];
    size_t module_count = 0;
    uint64_t cmdline_phys = 0;
    size_t cmdline_length = 0;
    uint64_t start_info_phys = 0;
    uint64_t rsdp_phys = 0;

    std::span<const mm::PhysRange> ram_ranges() const { return {ram, ram_count}; }
};

// Reads start_info at `phys` through the boot identity map. Panics on a malformed structure:
// nothing can run without it.
BootInfo parse_start_info(uint64_t phys);

// The command line, once the physmap is up.
std::string_view command_line(const BootInfo& info);

}  // namespace kernel::boot
