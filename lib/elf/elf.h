// ElfImage: a validated view of an x86-64 ELF64 executable (ET_EXEC or ET_DYN), the facts a
// loader needs (segments, entry, interpreter, TLS, stack flags, load bounds, AT_PHDR) and a
// distinct reason for every file it refuses. Every offset and size in the file is hostile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "lib/base/errno.h"
#include "lib/base/result.h"
#include "lib/elf/elf_types.h"

namespace lib::elf {

inline constexpr uint64_t kPageSize = 4096;
// The user half ends one page below 2^47: Linux's TASK_SIZE_MAX (arch/x86/include/asm/
// page_64_types.h) keeps that page unmapped so SYSRET never returns to a non-canonical RIP.
inline constexpr uint64_t kUserAddressLimit = (uint64_t(1) << 47) - kPageSize;
// Linux load_elf_phdrs() (fs/binfmt_elf.c) refuses a program header table larger than one page;
// no program Linux runs has more entries than this, and it bounds our per-lookup work.
inline constexpr uint16_t kMaxProgramHeaders = kPageSize / sizeof(Elf64_Phdr);
// Linux refuses a PT_INTERP longer than PATH_MAX (fs/binfmt_elf.c load_elf_binary()).
inline constexpr uint64_t kMaxInterpreterSize = 4096;

enum class ElfError : uint8_t {
    NotElf,             // no \x7fELF magic
    Truncated,          // a header, table or segment lies past the end of the file
    Not64Bit,           // ELFCLASS32 or unknown class
    NotLittleEndian,    // ELFDATA2MSB or unknown encoding
    BadVersion,         // e_ident[EI_VERSION] or e_version is not EV_CURRENT
    NotX86_64,          // e_machine is not EM_X86_64
    BadType,            // neither ET_EXEC nor ET_DYN (a .o, a core dump...)
    BadProgramHeaders,  // bad e_phentsize, no or too many entries, table offset overflows,
                        // or a duplicate PT_INTERP/PT_DYNAMIC/PT_PHDR/PT_TLS/PT_GNU_STACK
    BadSegment,         // a segment with filesz > memsz, overflowing or non-user addresses,
                        // or a bad alignment
    NoLoadSegments,     // no PT_LOAD with a non-zero memory size
    BadInterpreter,     // PT_INTERP empty, too long or not NUL-terminated
    BadEntry,           // e_entry outside every PT_LOAD
    BadSectionHeaders,  // bad e_shentsize, or the section table's offset overflows
    BadSymbolTable,     // a symbol table with a bad entry size or string table link
};

// A human sentence for the error, e.g. for "phx run: ./app: <sentence>".
const char* describe(ElfError error);
// What execve reports for a file that fails to parse: ENOEXEC, as Linux does for formats it
// cannot run (a truncated file is EIO there only when the read itself fails).
constexpr Errno to_errno(ElfError) { return Errno::NoExec; }

// Validates the identification and the fields every ELF consumer needs (magic, class,
// encoding, versions, machine) and returns a copy of the header. Does not look at e_type.
Result<Elf64_Ehdr, ElfError> read_elf_header(std::span<const std::byte> file);

// The program header table of a parsed image, decoded entry by entry on access.
class ProgramHeaders {
public:
    class Iterator {
    public:
        Iterator(std::span<const std::byte> table, size_t index) : m_table(table), m_index(index) {}
        Elf64_Phdr operator*() const;
        Iterator& operator++() {
            ++m_index;
            return *this;
        }
        bool operator==(const Iterator& other) const { return m_index == other.m_index; }

    private:
        std::span<const std::byte> m_table;
        size_t m_index;
    };

    explicit ProgramHeaders(std::span<const std::byte> table) : m_table(table) {}
    size_t size() const { return m_table.size() / sizeof(Elf64_Phdr); }
    // index must be < size().
    Elf64_Phdr operator[](size_t index) const { return *Iterator(m_table, index); }
    Iterator begin() const { return {m_table, 0}; }
    Iterator end() const { return {m_table, size()}; }

private:
    std::span<const std::byte> m_table;  // validated: a whole number of entries in the file
};

// [start, end): the page-aligned span of link-time addresses the PT_LOAD segments occupy. For a
// PIE the loader picks a base and maps [base + start, base + end).
struct LoadBounds {
    uint64_t start;
    uint64_t end;
    uint64_t size() const { return end - start; }
};

class ElfImage {
public:
    // Validates the whole image (see ElfError). The span must outlive the ElfImage: accessors
    // return views into it.
    static Result<ElfImage, ElfError> parse(std::span<const std::byte> file);

    uint16_t type() const { return m_header.e_type; }
    bool is_pie() const { return m_header.e_type == ET_DYN; }
    // Link-time address; add the load base for a PIE.
    uint64_t entry() const { return m_header.e_entry; }
    const Elf64_Ehdr& header() const { return m_header; }
    uint16_t phnum() const { return m_header.e_phnum; }
    uint16_t phentsize() const { return m_header.e_phentsize; }
    ProgramHeaders program_headers() const { return ProgramHeaders(m_phdr_table); }

    // The first program header of this type, if any (PT_LOAD has many: iterate instead).
    std::optional<Elf64_Phdr> find_segment(uint32_t type) const;
    // The file bytes [p_offset, p_offset + p_filesz) of a segment; nullopt when they are not in
    // the file (never for the PT_LOAD, PT_INTERP and PT_TLS headers parse() validated).
    std::optional<std::span<const std::byte>> file_bytes(const Elf64_Phdr& phdr) const;

    // The PT_INTERP path (validated: within the file, NUL-terminated, no longer than PATH_MAX),
    // without its NUL. A static PIE has PT_DYNAMIC but no PT_INTERP.
    std::optional<std::string_view> interpreter() const { return m_interpreter; }
    // Linux's definition: a program is dynamically linked when it names an interpreter.
    bool is_dynamically_linked() const { return m_interpreter.has_value(); }
    bool has_dynamic() const { return find_segment(PT_DYNAMIC).has_value(); }
    std::optional<Elf64_Phdr> tls() const { return find_segment(PT_TLS); }
    std::optional<uint32_t> gnu_stack_flags() const;
    // x86-64 Linux (since 5.8) gives a 64-bit program an executable stack only when its
    // PT_GNU_STACK asks for PF_X; without PT_GNU_STACK the stack is not executable.
    bool executable_stack() const;

    LoadBounds load_bounds() const { return m_bounds; }
    // Link-time address of the program header table in memory, for AT_PHDR: PT_PHDR's p_vaddr,
    // else the address of e_phoff inside the PT_LOAD whose file bytes hold the whole table (as
    // Linux computes it). nullopt when the table is not loaded.
    std::optional<uint64_t> phdr_vaddr() const;

    std::span<const std::byte> file() const { return m_file; }

private:
    ElfImage() = default;
    Result<void, ElfError> scan_segments();

    std::span<const std::byte> m_file;
    std::span<const std::byte> m_phdr_table;
    Elf64_Ehdr m_header{};
    LoadBounds m_bounds{};
    std::optional<std::string_view> m_interpreter;
};

}  // namespace lib::elf
