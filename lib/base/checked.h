// Overflow-checked arithmetic and alignment helpers for sizes and addresses that come from
// outside (the app, the disk, the guest, the network).
#pragma once

#include <cstdint>
#include <optional>

namespace lib {

template <typename T>
constexpr std::optional<T> checked_add(T a, T b) {
    T out;
    if (__builtin_add_overflow(a, b, &out)) return std::nullopt;
    return out;
}

template <typename T>
constexpr std::optional<T> checked_mul(T a, T b) {
    T out;
    if (__builtin_mul_overflow(a, b, &out)) return std::nullopt;
    return out;
}

// align must be a power of two.
constexpr uint64_t align_down(uint64_t value, uint64_t align) { return value & ~(align - 1); }

// Rounds up to a multiple of align (a power of two); nullopt when that overflows.
constexpr std::optional<uint64_t> align_up(uint64_t value, uint64_t align) {
    auto bumped = checked_add<uint64_t>(value, align - 1);
    if (!bumped) return std::nullopt;
    return *bumped & ~(align - 1);
}

constexpr bool is_aligned(uint64_t value, uint64_t align) { return (value & (align - 1)) == 0; }

// True when [offset, offset + length) lies inside [0, size), without overflow.
constexpr bool range_within(uint64_t offset, uint64_t length, uint64_t size) {
    return offset <= size && length <= size - offset;
}

}  // namespace lib
