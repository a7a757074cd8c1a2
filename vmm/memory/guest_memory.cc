#include "vmm/memory/guest_memory.h"

#include <algorithm>

namespace vmm {

GuestMemory::GuestMemory(std::vector<MemoryRegion> regions) : m_regions(std::move(regions)) {
    std::sort(m_regions.begin(), m_regions.end(),
              [](const MemoryRegion& a, const MemoryRegion& b) { return a.guest_base < b.guest_base; });
}

lib::Result<std::span<std::byte>> GuestMemory::slice(uint64_t gpa, uint64_t length) const {
    uint64_t last;
    if (__builtin_add_overflow(gpa, length, &last)) return lib::Errno::Fault;
    for (const MemoryRegion& region : m_regions) {
        if (gpa < region.guest_base) break;
        uint64_t offset = gpa - region.guest_base;
        if (offset > region.size || length > region.size - offset) continue;
        return std::span<std::byte>(region.host + offset, size_t(length));
    }
    return lib::Errno::Fault;
}

lib::ErrorOr GuestMemory::read(uint64_t gpa, std::span<std::byte> out) const {
    auto bytes = TRY(slice(gpa, out.size()));
    if (!out.empty()) std::memcpy(out.data(), bytes.data(), out.size());
    return {};
}

lib::ErrorOr GuestMemory::write(uint64_t gpa, std::span<const std::byte> in) const {
    auto bytes = TRY(slice(gpa, in.size()));
    if (!in.empty()) std::memcpy(bytes.data(), in.data(), in.size());
    return {};
}

uint64_t GuestMemory::end() const {
    return m_regions.empty() ? 0 : m_regions.back().guest_base + m_regions.back().size;
}

}  // namespace vmm
