// A PVH kernel ELF as the VMM loads it: the segments to copy into guest RAM at their physical
// addresses, and the 32-bit entry point from the Xen PHYS32_ENTRY note. Parsed once per run
// from an untrusted file (ELF32 or ELF64, x86), then copied into every fresh VM.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vmm/error.h"

namespace vmm {

struct KernelSegment {
    uint64_t paddr;
    std::vector<std::byte> bytes;  // p_filesz bytes; the rest up to memsz is zero
    uint64_t memsz;
};

// XEN_ELFNOTE_PHYS32_RELOC: the kernel can run at another physical address than its p_paddr;
// the lowest segment may then start at any multiple of `align` in [min, ...) with the last
// byte at most `max` (Xen's public/elfnote.h; absent fields take Xen's defaults).
struct KernelRelocation {
    uint32_t align = 0x200000;
    uint32_t min = 0;
    uint32_t max = 0xffffffff;
};

class KernelImage {
public:
    // Usage errors name the file and what is wrong with it.
    static Expected<KernelImage> parse(std::span<const std::byte> file, const std::string& name);
    static Expected<KernelImage> load(const std::string& path);

    uint32_t entry() const { return m_entry; }
    const std::optional<KernelRelocation>& relocation() const { return m_relocation; }
    const std::vector<KernelSegment>& segments() const { return m_segments; }
    // [lowest paddr, highest paddr + memsz) over all segments.
    uint64_t lowest_address() const { return m_low; }
    uint64_t end_address() const { return m_high; }

private:
    uint32_t m_entry = 0;
    std::optional<KernelRelocation> m_relocation;
    std::vector<KernelSegment> m_segments;
    uint64_t m_low = 0;
    uint64_t m_high = 0;
};

}  // namespace vmm
