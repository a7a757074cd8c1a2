#include "vmm/boot/pvh_boot.h"

#include <algorithm>

#include <cstdio>

#include "lib/pvh/start_info.h"

namespace vmm {

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kLegacyRamEnd = 0xa0000;  // the real-mode area ends at the VGA hole
constexpr uint64_t kHighMemoryStart = 0x100000;

std::string hex(uint64_t value) {
    char text[24];
    std::snprintf(text, sizeof(text), "%#llx", static_cast<unsigned long long>(value));
    return text;
}

uint64_t page_up(uint64_t value) { return (value + kPage - 1) & ~(kPage - 1); }

std::vector<lib::pvh::MemmapEntry> memmap_for(const GuestMemory& memory) {
    std::vector<lib::pvh::MemmapEntry> entries;
    for (const MemoryRegion& region : memory.regions()) {
        if (region.guest_base == 0 && region.size > kHighMemoryStart) {
            entries.push_back({0, kLegacyRamEnd, lib::pvh::kMemmapRam, 0});
            entries.push_back({kLegacyRamEnd, kHighMemoryStart - kLegacyRamEnd,
                               lib::pvh::kMemmapReserved, 0});
            entries.push_back({kHighMemoryStart, region.size - kHighMemoryStart,
                               lib::pvh::kMemmapRam, 0});
        } else {
            entries.push_back({region.guest_base, region.size, lib::pvh::kMemmapRam, 0});
        }
    }
    return entries;
}

}  // namespace

KernelPlacement place_kernel(const GuestMemory& memory, const KernelImage& kernel,
                             uint64_t modules_bytes, uint64_t random) {
    const auto& reloc = kernel.relocation();
    uint64_t low_ram = 0;
    for (const MemoryRegion& region : memory.regions())
        if (region.guest_base == 0) low_ram = region.size;
    if (!reloc || kernel.end_address() < kernel.lowest_address()) return {};
    uint64_t size = kernel.end_address() - kernel.lowest_address();
    uint64_t align = reloc->align;
    // Start addresses k * align in [first, last]: above the boot data and the note's minimum,
    // with the last byte under the note's maximum and the modules still in low RAM.
    uint64_t first = std::max<uint64_t>(reloc->min, kCmdlineAddress + kCmdlineMax);
    first = (first + align - 1) / align * align;
    uint64_t room = std::min<uint64_t>(uint64_t(reloc->max) + 1, low_ram > modules_bytes
                                                                     ? low_ram - modules_bytes
                                                                     : 0);
    if (size > room || room - size < first) return {};
    uint64_t last = (room - size) / align * align;
    uint64_t choices = (last - first) / align + 1;
    uint64_t start = first + (random % choices) * align;
    return {start - kernel.lowest_address(), choices};
}

std::vector<RamRange> ram_layout(uint64_t bytes) {
    if (bytes <= kLowRamLimit) return {{0, bytes}};
    return {{0, kLowRamLimit}, {kHighRamBase, bytes - kLowRamLimit}};
}

Expected<uint64_t> write_pvh_boot(const GuestMemory& memory, const KernelImage& kernel,
                                  const BootPlan& plan) {
    for (const KernelSegment& segment : kernel.segments()) {
        uint64_t paddr = segment.paddr + plan.kernel_offset;  // modulo 2^64: offsets may be < 0
        bool overlaps_boot_data =
            paddr < kCmdlineAddress + kCmdlineMax && kStartInfoAddress < paddr + segment.memsz;
        if (overlaps_boot_data || memory.slice(paddr, segment.memsz).is_error())
            return usage_error("the kernel's segment at " + hex(paddr) + " (" +
                               std::to_string(segment.memsz) +
                               " bytes) does not fit in guest RAM above the boot data");
        (void)memory.write(paddr, segment.bytes);  // checked above; the rest stays zero
    }
    if (plan.modules.size() > kMaxModules) return usage_error("too many boot modules");
    if (plan.cmdline.size() + 1 > kCmdlineMax)
        return usage_error("the kernel command line is longer than 4095 bytes");

    lib::pvh::ModlistEntry modlist[kMaxModules] = {};
    // Modules go after the kernel and never over the boot data (a kernel linked low, below
    // start_info, would otherwise have its first module overwritten by it).
    uint64_t next = page_up(
        std::max(kernel.end_address() + plan.kernel_offset, kCmdlineAddress + kCmdlineMax));
    for (size_t i = 0; i < plan.modules.size(); ++i) {
        auto module = plan.modules[i];
        if (memory.write(next, module).is_error())
            return usage_error("boot module " + std::to_string(i) + " (" +
                               std::to_string(module.size()) + " bytes) does not fit in guest RAM");
        modlist[i] = {next, module.size(), 0, 0};
        next = page_up(next + module.size());
    }

    auto memmap = memmap_for(memory);
    lib::pvh::StartInfo info{};
    info.magic = lib::pvh::kStartInfoMagic;
    info.version = lib::pvh::kStartInfoVersion;
    info.nr_modules = uint32_t(plan.modules.size());
    info.modlist_paddr = plan.modules.empty() ? 0 : kModlistAddress;
    info.cmdline_paddr = kCmdlineAddress;
    info.memmap_paddr = kMemmapAddress;
    info.memmap_entries = uint32_t(memmap.size());

    auto as_bytes = [](const auto* data, size_t count) {
        return std::span<const std::byte>(reinterpret_cast<const std::byte*>(data),
                                          count * sizeof(*data));
    };
    if (memory.write(kStartInfoAddress, as_bytes(&info, 1)).is_error() ||
        memory.write(kModlistAddress, as_bytes(modlist, plan.modules.size())).is_error() ||
        memory.write(kMemmapAddress, as_bytes(memmap.data(), memmap.size())).is_error() ||
        memory.write(kCmdlineAddress, as_bytes(plan.cmdline.c_str(), plan.cmdline.size() + 1))
            .is_error())
        return usage_error("guest RAM too small for the PVH boot data");
    return kStartInfoAddress;
}

}  // namespace vmm
