// ELF64 on-disk structures and constants, as the System V gABI (ch. 4 "Object Files", ch. 5
// "Program Loading") and the x86-64 psABI define them. Spec spelling is kept on purpose; do not
// include <elf.h> or <sys/auxv.h> in the same file: their macros would rewrite these names.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>

#include "lib/base/checked.h"

#if defined(PT_LOAD) || defined(EM_X86_64) || defined(AT_RANDOM)
#error "lib/elf: <elf.h>/<sys/auxv.h> macros are in scope and collide with lib::elf constants"
#endif

namespace lib::elf {

// gABI "ELF Identification": indexes into e_ident and their values.
inline constexpr size_t EI_NIDENT = 16;
inline constexpr size_t EI_CLASS = 4;
inline constexpr size_t EI_DATA = 5;
inline constexpr size_t EI_VERSION = 6;
inline constexpr size_t EI_OSABI = 7;
inline constexpr uint8_t ELFMAG[4] = {0x7f, 'E', 'L', 'F'};
inline constexpr uint8_t ELFCLASS32 = 1;
inline constexpr uint8_t ELFCLASS64 = 2;
inline constexpr uint8_t ELFDATA2LSB = 1;
inline constexpr uint8_t ELFDATA2MSB = 2;
inline constexpr uint32_t EV_CURRENT = 1;

// gABI e_type.
inline constexpr uint16_t ET_NONE = 0;
inline constexpr uint16_t ET_REL = 1;
inline constexpr uint16_t ET_EXEC = 2;
inline constexpr uint16_t ET_DYN = 3;
inline constexpr uint16_t ET_CORE = 4;

// gABI e_machine (the two that matter here).
inline constexpr uint16_t EM_386 = 3;
inline constexpr uint16_t EM_X86_64 = 62;

// gABI p_type, plus the GNU extensions every Linux toolchain emits.
inline constexpr uint32_t PT_NULL = 0;
inline constexpr uint32_t PT_LOAD = 1;
inline constexpr uint32_t PT_DYNAMIC = 2;
inline constexpr uint32_t PT_INTERP = 3;
inline constexpr uint32_t PT_NOTE = 4;
inline constexpr uint32_t PT_SHLIB = 5;
inline constexpr uint32_t PT_PHDR = 6;
inline constexpr uint32_t PT_TLS = 7;
inline constexpr uint32_t PT_GNU_EH_FRAME = 0x6474e550;
inline constexpr uint32_t PT_GNU_STACK = 0x6474e551;
inline constexpr uint32_t PT_GNU_RELRO = 0x6474e552;
inline constexpr uint32_t PT_GNU_PROPERTY = 0x6474e553;

// gABI p_flags.
inline constexpr uint32_t PF_X = 1;
inline constexpr uint32_t PF_W = 2;
inline constexpr uint32_t PF_R = 4;

// gABI sh_type.
inline constexpr uint32_t SHT_NULL = 0;
inline constexpr uint32_t SHT_PROGBITS = 1;
inline constexpr uint32_t SHT_SYMTAB = 2;
inline constexpr uint32_t SHT_STRTAB = 3;
inline constexpr uint32_t SHT_RELA = 4;
inline constexpr uint32_t SHT_HASH = 5;
inline constexpr uint32_t SHT_DYNAMIC = 6;
inline constexpr uint32_t SHT_NOTE = 7;
inline constexpr uint32_t SHT_NOBITS = 8;
inline constexpr uint32_t SHT_REL = 9;
inline constexpr uint32_t SHT_DYNSYM = 11;

// gABI special section indexes.
inline constexpr uint16_t SHN_UNDEF = 0;
inline constexpr uint16_t SHN_LORESERVE = 0xff00;
inline constexpr uint16_t SHN_ABS = 0xfff1;
inline constexpr uint16_t SHN_XINDEX = 0xffff;

// gABI symbol types and bindings (st_info = bind << 4 | type).
inline constexpr uint8_t STT_NOTYPE = 0;
inline constexpr uint8_t STT_OBJECT = 1;
inline constexpr uint8_t STT_FUNC = 2;
inline constexpr uint8_t STT_SECTION = 3;
inline constexpr uint8_t STT_FILE = 4;
inline constexpr uint8_t STT_COMMON = 5;
inline constexpr uint8_t STT_TLS = 6;
inline constexpr uint8_t STT_GNU_IFUNC = 10;
inline constexpr uint8_t STB_LOCAL = 0;
inline constexpr uint8_t STB_GLOBAL = 1;
inline constexpr uint8_t STB_WEAK = 2;

constexpr uint8_t st_type(uint8_t info) { return info & 0xf; }
constexpr uint8_t st_bind(uint8_t info) { return info >> 4; }
constexpr uint8_t st_info(uint8_t bind, uint8_t type) { return uint8_t(bind << 4 | (type & 0xf)); }

// The on-disk layouts (gABI "ELF Header", "Program Header", "Sections", "Symbol Table").
struct Elf64_Ehdr {
    uint8_t e_ident[EI_NIDENT];
    uint16_t e_type;
    uint16_t e_machine;
    uint32_t e_version;
    uint64_t e_entry;
    uint64_t e_phoff;
    uint64_t e_shoff;
    uint32_t e_flags;
    uint16_t e_ehsize;
    uint16_t e_phentsize;
    uint16_t e_phnum;
    uint16_t e_shentsize;
    uint16_t e_shnum;
    uint16_t e_shstrndx;
};

struct Elf64_Phdr {
    uint32_t p_type;
    uint32_t p_flags;
    uint64_t p_offset;
    uint64_t p_vaddr;
    uint64_t p_paddr;
    uint64_t p_filesz;
    uint64_t p_memsz;
    uint64_t p_align;
};

struct Elf64_Shdr {
    uint32_t sh_name;
    uint32_t sh_type;
    uint64_t sh_flags;
    uint64_t sh_addr;
    uint64_t sh_offset;
    uint64_t sh_size;
    uint32_t sh_link;
    uint32_t sh_info;
    uint64_t sh_addralign;
    uint64_t sh_entsize;
};

struct Elf64_Sym {
    uint32_t st_name;
    uint8_t st_info;
    uint8_t st_other;
    uint16_t st_shndx;
    uint64_t st_value;
    uint64_t st_size;
};

static_assert(sizeof(Elf64_Ehdr) == 64 && sizeof(Elf64_Phdr) == 56);
static_assert(sizeof(Elf64_Shdr) == 64 && sizeof(Elf64_Sym) == 24);

// Decoding by copy is only right because host and target are both little-endian; parsers reject
// ELFDATA2MSB files before reading any multi-byte field.
static_assert(std::endian::native == std::endian::little, "lib/elf assumes a little-endian host");

// Copies a T out of bytes[offset, offset + sizeof(T)), or nullopt when that range is not inside
// bytes. The copy makes the read alignment-safe and the result independent of later writes.
template <typename T>
std::optional<T> read_at(std::span<const std::byte> bytes, uint64_t offset) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (!range_within(offset, sizeof(T), bytes.size())) return std::nullopt;
    T out;
    __builtin_memcpy(&out, bytes.data() + offset, sizeof(T));
    return out;
}

// The bytes [offset, offset + length) of file, or nullopt when they are not all inside it.
inline std::optional<std::span<const std::byte>> slice(std::span<const std::byte> file,
                                                       uint64_t offset, uint64_t length) {
    if (!range_within(offset, length, file.size())) return std::nullopt;
    return file.subspan(size_t(offset), size_t(length));
}

}  // namespace lib::elf
