// Sequence-number arithmetic (RFC 9293 §3.4): comparisons modulo 2^32, valid while the two
// numbers are less than 2^31 apart, which the window bounds guarantee.
#pragma once

#include <cstdint>

namespace lib::net {

inline constexpr bool seq_lt(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }
inline constexpr bool seq_leq(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) <= 0; }
inline constexpr bool seq_gt(uint32_t a, uint32_t b) { return seq_lt(b, a); }
inline constexpr bool seq_geq(uint32_t a, uint32_t b) { return seq_leq(b, a); }
inline constexpr uint32_t seq_max(uint32_t a, uint32_t b) { return seq_lt(a, b) ? b : a; }
inline constexpr uint32_t seq_min(uint32_t a, uint32_t b) { return seq_lt(a, b) ? a : b; }
// Whether `lo <= seq < hi` modulo 2^32.
inline constexpr bool seq_in(uint32_t seq, uint32_t lo, uint32_t hi) { return seq - lo < hi - lo; }

}  // namespace lib::net
