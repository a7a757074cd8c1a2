// Page-size constants and page arithmetic shared by the frame allocator and the VM-area map.
#pragma once

#include <cstdint>

namespace lib::vm {

inline constexpr unsigned kPageShift = 12;
inline constexpr uint64_t kPageSize = uint64_t(1) << kPageShift;

constexpr bool is_page_aligned(uint64_t value) { return (value & (kPageSize - 1)) == 0; }

// Bit count without __builtin_popcountll: without -mpopcnt that becomes a libgcc call, and the
// kernel links no libgcc.
constexpr unsigned popcount64(uint64_t x) {
    x = x - ((x >> 1) & 0x5555'5555'5555'5555);
    x = (x & 0x3333'3333'3333'3333) + ((x >> 2) & 0x3333'3333'3333'3333);
    x = (x + (x >> 4)) & 0x0f0f'0f0f'0f0f'0f0f;
    return unsigned((x * 0x0101'0101'0101'0101) >> 56);
}

}  // namespace lib::vm
