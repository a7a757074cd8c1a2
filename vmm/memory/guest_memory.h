// Guest physical memory as the VMM sees it: a few regions, each backed by one host mapping.
// Every guest address the VMM touches goes through slice(), which checks the whole range
// against one region without overflow; nothing else computes `host_base + gpa`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "lib/base/result.h"

namespace vmm {

struct MemoryRegion {
    uint64_t guest_base;
    uint64_t size;
    std::byte* host;  // not owned
};

class GuestMemory {
public:
    GuestMemory() = default;
    // Regions must not overlap; they are kept sorted by guest_base.
    explicit GuestMemory(std::vector<MemoryRegion> regions);

    // The host bytes behind [gpa, gpa + length), which must lie inside one region. Fault when
    // any byte is outside guest RAM or the range wraps. A zero length inside or at the end of a
    // region is an empty span.
    lib::Result<std::span<std::byte>> slice(uint64_t gpa, uint64_t length) const;

    lib::ErrorOr read(uint64_t gpa, std::span<std::byte> out) const;
    lib::ErrorOr write(uint64_t gpa, std::span<const std::byte> in) const;

    // Trivially copyable values (ring fields, headers). Unaligned guest addresses are fine.
    template <typename T>
    lib::Result<T> read_obj(uint64_t gpa) const {
        auto bytes = TRY(slice(gpa, sizeof(T)));
        T value;
        std::memcpy(&value, bytes.data(), sizeof(T));
        return value;
    }
    template <typename T>
    lib::ErrorOr write_obj(uint64_t gpa, const T& value) const {
        auto bytes = TRY(slice(gpa, sizeof(T)));
        std::memcpy(bytes.data(), &value, sizeof(T));
        return {};
    }

    std::span<const MemoryRegion> regions() const { return m_regions; }
    // One past the highest guest address backed by RAM.
    uint64_t end() const;

private:
    std::vector<MemoryRegion> m_regions;
};

}  // namespace vmm
