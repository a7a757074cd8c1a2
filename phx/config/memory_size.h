// Guest memory sizes as OPS and QEMU spell them: "512M", "1G", "1.5G", "2048" (MiB).
#pragma once

#include <cstdint>
#include <string_view>

namespace phx {

inline constexpr uint64_t kMinMemoryMib = 64;
inline constexpr uint64_t kMaxMemoryMib = uint64_t(1) << 20;  // 1 TiB
inline constexpr uint64_t kDefaultMemoryMib = 1024;

// The size in MiB. A bare number is MiB (QEMU's -m); suffixes K, M, G, T (either case, with
// an optional trailing B or iB) are powers of 1024. Throws PhxError(kExitUsage) naming the
// flag for anything unparsable, not a whole number of MiB, or outside [64M, 1T].
uint64_t parse_memory_mib(std::string_view text);

}  // namespace phx
