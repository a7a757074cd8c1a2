// The Linux x86-64 initial process stack (argc, argv, envp, auxv and the strings they point at),
// built into a caller's buffer that will be mapped to end at a given user address.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "lib/base/result.h"
#include "lib/elf/elf_types.h"

namespace lib::elf {

// Auxiliary vector types (Linux include/uapi/linux/auxvec.h, arch/x86/include/uapi/asm/auxvec.h).
inline constexpr uint64_t AT_NULL = 0;
inline constexpr uint64_t AT_IGNORE = 1;
inline constexpr uint64_t AT_PHDR = 3;
inline constexpr uint64_t AT_PHENT = 4;
inline constexpr uint64_t AT_PHNUM = 5;
inline constexpr uint64_t AT_PAGESZ = 6;
inline constexpr uint64_t AT_BASE = 7;
inline constexpr uint64_t AT_FLAGS = 8;
inline constexpr uint64_t AT_ENTRY = 9;
inline constexpr uint64_t AT_UID = 11;
inline constexpr uint64_t AT_EUID = 12;
inline constexpr uint64_t AT_GID = 13;
inline constexpr uint64_t AT_EGID = 14;
inline constexpr uint64_t AT_PLATFORM = 15;
inline constexpr uint64_t AT_HWCAP = 16;
inline constexpr uint64_t AT_CLKTCK = 17;
inline constexpr uint64_t AT_SECURE = 23;
inline constexpr uint64_t AT_RANDOM = 25;
inline constexpr uint64_t AT_HWCAP2 = 26;
inline constexpr uint64_t AT_EXECFN = 31;
inline constexpr uint64_t AT_SYSINFO_EHDR = 33;
inline constexpr uint64_t AT_MINSIGSTKSZ = 51;

struct AuxEntry {
    uint64_t type;
    uint64_t value;
};

struct InitialStackSpec {
    std::span<const std::string_view> argv;  // argv[0] first; Linux >= 5.18 never passes argc 0
    std::span<const std::string_view> envp;  // "KEY=VALUE" entries
    // Entries copied in order. AT_NULL, AT_RANDOM, AT_EXECFN and AT_PLATFORM are the builder's:
    // passing one of them is an error.
    std::span<const AuxEntry> aux;
    std::string_view execfn;                // the path execve was given: AT_EXECFN
    std::string_view platform;              // "x86_64": AT_PLATFORM; empty omits it
    std::span<const std::byte, 16> random;  // the AT_RANDOM bytes (glibc's stack guard seed)
};

// Lays the stack out as Linux create_elf_tables() (fs/binfmt_elf.c) does, from high to low:
//   8 zero bytes (Linux's end marker), execfn, envp strings, argv strings (argv[0] lowest),
//   platform string, 16 random bytes, padding, auxv (then AT_NULL), 0, envp[], 0, argv[], argc
// with argc at the returned rsp, which is 16-byte aligned as x86-64 psABI §3.4.1 requires at
// process entry. `buffer` becomes the user memory [stack_top - buffer.size(), stack_top).
// Returns rsp; E2BIG when the stack does not fit the buffer (or below stack_top); EINVAL for a
// string holding a NUL byte or a reserved aux type in spec.aux.
Result<uint64_t> build_initial_stack(std::span<std::byte> buffer, uint64_t stack_top,
                                     const InitialStackSpec& spec);

}  // namespace lib::elf
