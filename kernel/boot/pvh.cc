// start_info parsing.
#include "kernel/boot/pvh.h"

#include "kernel/arch/x86_64/layout.h"
#include "kernel/debug/panic.h"
#include "lib/pvh/start_info.h"

namespace kernel::boot {

namespace {

using lib::pvh::MemmapEntry;
using lib::pvh::ModlistEntry;
using lib::pvh::StartInfo;
using lib::pvh::kStartInfoMagic;
constexpr uint32_t kMemmapTypeRam = lib::pvh::kMemmapRam;
constexpr uint64_t kBootMapLimit = 1ull << 30;  // boot.S maps the first GiB only

template <typename T>
const T* boot_pointer(uint64_t phys, uint64_t count = 1) {
    if (phys == 0 || phys + count * sizeof(T) > kBootMapLimit)
        panic("start_info: address {:#x} outside the boot mapping", phys);
    return arch::phys_to_virt<const T>(phys);
}

}  // namespace

BootInfo parse_start_info(uint64_t phys) {
    BootInfo info;
    info.start_info_phys = phys;
    const StartInfo* start = boot_pointer<StartInfo>(phys);
    if (start->magic != kStartInfoMagic) panic("start_info: bad magic {:#x}", start->magic);
    info.rsdp_phys = start->rsdp_paddr;
    info.cmdline_phys = start->cmdline_paddr;
    if (info.cmdline_phys) {
        const char* cmdline = boot_pointer<char>(info.cmdline_phys);
        while (info.cmdline_length < 4096 && cmdline[info.cmdline_length]) ++info.cmdline_length;
    }

    if (start->nr_modules > kMaxModules) panic("start_info: {} modules", start->nr_modules);
    const ModlistEntry* modules = start->nr_modules
                                      ? boot_pointer<ModlistEntry>(start->modlist_paddr,
                                                                   start->nr_modules)
                                      : nullptr;
    for (uint32_t i = 0; i < start->nr_modules; ++i)
        info.modules[info.module_count++] = {modules[i].paddr, modules[i].size};

    if (start->version < 1 || start->memmap_entries == 0)
        panic("start_info: no memory map (version {})", start->version);
    if (start->memmap_entries > kMaxMemoryRanges)
        panic("start_info: {} memory map entries", start->memmap_entries);
    const MemmapEntry* map = boot_pointer<MemmapEntry>(start->memmap_paddr, start->memmap_entries);
    for (uint32_t i = 0; i < start->memmap_entries; ++i)
        if (map[i].type == kMemmapTypeRam && map[i].size)
            info.ram[info.ram_count++] = {map[i].addr, map[i].size};
    return info;
}

std::string_view command_line(const BootInfo& info) {
    if (!info.cmdline_phys) return {};
    return {arch::phys_to_virt<const char>(info.cmdline_phys), info.cmdline_length};
}

}  // namespace kernel::boot
