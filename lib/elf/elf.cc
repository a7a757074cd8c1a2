// ELF64 executable validation (freestanding and hosted). The rules follow the System V gABI
// ch. 5 "Program Loading" and what Linux's fs/binfmt_elf.c load_elf_binary() accepts.
#include "lib/elf/elf.h"

#include "lib/base/checked.h"

namespace lib::elf {

namespace {

// A segment's file bytes [p_offset, p_offset + p_filesz): an overflowing range is malformed
// (`malformed`), one that merely ends past the file means the file was cut short.
Result<void, ElfError> check_file_range(const Elf64_Phdr& p, uint64_t file_size,
                                        ElfError malformed) {
    auto end = checked_add(p.p_offset, p.p_filesz);
    if (!end) return malformed;
    if (*end > file_size) return ElfError::Truncated;
    return {};
}

// A segment's memory [p_vaddr, p_vaddr + p_memsz) must not wrap and must stay in the user half.
Result<void, ElfError> check_memory_range(const Elf64_Phdr& p) {
    auto end = checked_add(p.p_vaddr, p.p_memsz);
    if (!end || *end > kUserAddressLimit) return ElfError::BadSegment;
    return {};
}

// gABI: 0 and 1 mean no alignment; otherwise a positive integral power of 2. (Not
// std::has_single_bit: without SSE/POPCNT that becomes a libgcc call the kernel lacks.)
bool valid_align(uint64_t align) { return (align & (align - 1)) == 0; }

Result<void, ElfError> check_load(const Elf64_Phdr& p, uint64_t file_size) {
    if (p.p_filesz > p.p_memsz) return ElfError::BadSegment;
    TRY(check_file_range(p, file_size, ElfError::BadSegment));
    TRY(check_memory_range(p));
    if (!valid_align(p.p_align)) return ElfError::BadSegment;
    // gABI: p_vaddr ≡ p_offset modulo p_align. Linux maps file pages, so it needs at least page
    // congruence whatever p_align says; the subtraction may wrap, which modulo 2^k is harmless.
    uint64_t modulus = p.p_align > kPageSize ? p.p_align : kPageSize;
    if ((p.p_vaddr - p.p_offset) % modulus != 0) return ElfError::BadSegment;
    return {};
}

Result<void, ElfError> check_tls(const Elf64_Phdr& p, uint64_t file_size) {
    if (p.p_filesz > p.p_memsz || !valid_align(p.p_align)) return ElfError::BadSegment;
    TRY(check_file_range(p, file_size, ElfError::BadSegment));
    return check_memory_range(p);
}

// Linux load_elf_binary(): 2 <= p_filesz <= PATH_MAX and the last byte is NUL. The path is the
// C string at the start (Linux reads it with strlen semantics), which must not be empty.
Result<std::string_view, ElfError> read_interpreter(const Elf64_Phdr& p,
                                                    std::span<const std::byte> file) {
    if (p.p_filesz < 2 || p.p_filesz > kMaxInterpreterSize) return ElfError::BadInterpreter;
    TRY(check_file_range(p, file.size(), ElfError::BadInterpreter));
    auto bytes = file.subspan(size_t(p.p_offset), size_t(p.p_filesz));
    if (bytes.back() != std::byte{0}) return ElfError::BadInterpreter;
    size_t length = 0;
    while (bytes[length] != std::byte{0}) ++length;
    if (length == 0) return ElfError::BadInterpreter;
    return std::string_view(reinterpret_cast<const char*>(bytes.data()), length);
}

// Bit for each segment type that may appear at most once (gABI says so for PT_INTERP and PT_PHDR;
// for the others a second copy would be ambiguous).
uint32_t singleton_bit(uint32_t type) {
    switch (type) {
        case PT_INTERP:
            return 1;
        case PT_DYNAMIC:
            return 2;
        case PT_PHDR:
            return 4;
        case PT_TLS:
            return 8;
        case PT_GNU_STACK:
            return 16;
        default:
            return 0;
    }
}

}  // namespace

const char* describe(ElfError error) {
    switch (error) {
        case ElfError::NotElf:
            return "not an ELF file (no ELF magic number)";
        case ElfError::Truncated:
            return "the ELF file is truncated: a header or segment lies past its end";
        case ElfError::Not64Bit:
            return "not a 64-bit ELF file (32-bit programs are not supported)";
        case ElfError::NotLittleEndian:
            return "not a little-endian ELF file";
        case ElfError::BadVersion:
            return "unsupported ELF version";
        case ElfError::NotX86_64:
            return "built for another architecture, not x86-64";
        case ElfError::BadType:
            return "not an executable program (ELF type is neither ET_EXEC nor ET_DYN)";
        case ElfError::BadProgramHeaders:
            return "malformed ELF program header table";
        case ElfError::BadSegment:
            return "malformed ELF segment (bad size, address or alignment)";
        case ElfError::NoLoadSegments:
            return "the ELF file has no loadable segments";
        case ElfError::BadInterpreter:
            return "malformed ELF interpreter path (PT_INTERP)";
        case ElfError::BadEntry:
            return "the ELF entry point lies outside every loadable segment";
        case ElfError::BadSectionHeaders:
            return "malformed ELF section header table";
        case ElfError::BadSymbolTable:
            return "malformed ELF symbol table";
    }
    return "invalid ELF file";
}

Result<Elf64_Ehdr, ElfError> read_elf_header(std::span<const std::byte> file) {
    if (file.size() < sizeof(ELFMAG)) return ElfError::NotElf;
    for (size_t i = 0; i < sizeof(ELFMAG); ++i)
        if (uint8_t(file[i]) != ELFMAG[i]) return ElfError::NotElf;
    // Identification first, so that a short 32-bit header reports its class, not its size.
    if (file.size() < EI_NIDENT) return ElfError::Truncated;
    if (uint8_t(file[EI_CLASS]) != ELFCLASS64) return ElfError::Not64Bit;
    if (uint8_t(file[EI_DATA]) != ELFDATA2LSB) return ElfError::NotLittleEndian;
    if (uint8_t(file[EI_VERSION]) != EV_CURRENT) return ElfError::BadVersion;
    auto header = read_at<Elf64_Ehdr>(file, 0);
    if (!header) return ElfError::Truncated;
    if (header->e_machine != EM_X86_64) return ElfError::NotX86_64;
    if (header->e_version != EV_CURRENT) return ElfError::BadVersion;
    return *header;
}

Elf64_Phdr ProgramHeaders::Iterator::operator*() const {
    // The table was validated to hold whole entries, so this read never fails for a valid index.
    return read_at<Elf64_Phdr>(m_table, uint64_t(m_index) * sizeof(Elf64_Phdr))
        .value_or(Elf64_Phdr{});
}

Result<ElfImage, ElfError> ElfImage::parse(std::span<const std::byte> file) {
    ElfImage image;
    image.m_file = file;
    image.m_header = TRY(read_elf_header(file));
    const Elf64_Ehdr& h = image.m_header;
    if (h.e_type != ET_EXEC && h.e_type != ET_DYN) return ElfError::BadType;
    if (h.e_phnum == 0) return ElfError::NoLoadSegments;
    if (h.e_phentsize != sizeof(Elf64_Phdr) || h.e_phnum > kMaxProgramHeaders)
        return ElfError::BadProgramHeaders;
    uint64_t table_size = uint64_t(h.e_phnum) * sizeof(Elf64_Phdr);  // <= one page
    if (!checked_add(h.e_phoff, table_size)) return ElfError::BadProgramHeaders;
    auto table = slice(file, h.e_phoff, table_size);
    if (!table) return ElfError::Truncated;
    image.m_phdr_table = *table;
    TRY(image.scan_segments());
    return image;
}

// Validates every program header and records what the accessors need.
Result<void, ElfError> ElfImage::scan_segments() {
    uint32_t seen = 0;
    uint64_t low = UINT64_MAX;
    uint64_t high = 0;
    bool entry_loaded = false;
    for (Elf64_Phdr p : program_headers()) {
        uint32_t bit = singleton_bit(p.p_type);
        if (seen & bit) return ElfError::BadProgramHeaders;
        seen |= bit;
        switch (p.p_type) {
            case PT_LOAD:
                TRY(check_load(p, m_file.size()));
                if (p.p_memsz == 0) break;
                low = p.p_vaddr < low ? p.p_vaddr : low;
                high = p.p_vaddr + p.p_memsz > high ? p.p_vaddr + p.p_memsz : high;
                entry_loaded |= entry() >= p.p_vaddr && entry() - p.p_vaddr < p.p_memsz;
                break;
            case PT_INTERP:
                m_interpreter = TRY(read_interpreter(p, m_file));
                break;
            case PT_TLS:
                TRY(check_tls(p, m_file.size()));
                break;
            case PT_DYNAMIC:
            case PT_PHDR:
            case PT_GNU_RELRO:
                TRY(check_memory_range(p));
                break;
            default:
                break;
        }
    }
    if (high == 0) return ElfError::NoLoadSegments;
    if (!entry_loaded) return ElfError::BadEntry;
    // high <= kUserAddressLimit, itself page-aligned, so rounding up cannot overflow.
    m_bounds = {align_down(low, kPageSize), *align_up(high, kPageSize)};
    return {};
}

std::optional<Elf64_Phdr> ElfImage::find_segment(uint32_t type) const {
    for (Elf64_Phdr p : program_headers())
        if (p.p_type == type) return p;
    return std::nullopt;
}

std::optional<std::span<const std::byte>> ElfImage::file_bytes(const Elf64_Phdr& phdr) const {
    return slice(m_file, phdr.p_offset, phdr.p_filesz);
}

std::optional<uint32_t> ElfImage::gnu_stack_flags() const {
    auto stack = find_segment(PT_GNU_STACK);
    if (!stack) return std::nullopt;
    return stack->p_flags;
}

bool ElfImage::executable_stack() const {
    auto flags = gnu_stack_flags();
    return flags && (*flags & PF_X);
}

std::optional<uint64_t> ElfImage::phdr_vaddr() const {
    if (auto phdr = find_segment(PT_PHDR)) return phdr->p_vaddr;
    uint64_t table_start = m_header.e_phoff;
    uint64_t table_size = m_phdr_table.size();
    for (Elf64_Phdr p : program_headers()) {
        // Both ranges were validated to lie inside the file, so none of this overflows.
        if (p.p_type != PT_LOAD || table_start < p.p_offset) continue;
        if (table_size > p.p_filesz || table_start - p.p_offset > p.p_filesz - table_size) continue;
        return p.p_vaddr + (table_start - p.p_offset);
    }
    return std::nullopt;
}

}  // namespace lib::elf
