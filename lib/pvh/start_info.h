// The PVH boot ABI (Xen's hvm_start_info, version 1): what a hypervisor leaves in guest memory
// for a PVH kernel, whose address arrives in %ebx. Written by the VMM, read by the kernel.
#pragma once

#include <cstdint>

namespace lib::pvh {

inline constexpr uint32_t kStartInfoMagic = 0x336ec578;
inline constexpr uint32_t kStartInfoVersion = 1;
// Xen ELF note (name "Xen") whose descriptor is the 32-bit physical entry point.
inline constexpr uint32_t kElfNotePhys32Entry = 18;
// Xen ELF note: the kernel may be loaded elsewhere; up to three 32-bit words: alignment,
// lowest start address, highest address of the last byte.
inline constexpr uint32_t kElfNotePhys32Reloc = 19;
// hvm_memmap_table_entry types (the E820 numbers).
inline constexpr uint32_t kMemmapRam = 1;
inline constexpr uint32_t kMemmapReserved = 2;

struct StartInfo {
    uint32_t magic;
    uint32_t version;
    uint32_t flags;
    uint32_t nr_modules;
    uint64_t modlist_paddr;
    uint64_t cmdline_paddr;
    uint64_t rsdp_paddr;
    uint64_t memmap_paddr;  // version >= 1
    uint32_t memmap_entries;
    uint32_t reserved;
};
static_assert(sizeof(StartInfo) == 56);

struct ModlistEntry {
    uint64_t paddr;
    uint64_t size;
    uint64_t cmdline_paddr;
    uint64_t reserved;
};
static_assert(sizeof(ModlistEntry) == 32);

struct MemmapEntry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
    uint32_t reserved;
};
static_assert(sizeof(MemmapEntry) == 24);

}  // namespace lib::pvh
