// Symbol table discovery and address lookup (freestanding and hosted). Section and symbol
// layouts per the System V gABI ch. 4 "Sections" and "Symbol Table".
#include "lib/elf/symbol_table.h"

#include "lib/base/checked.h"

namespace lib::elf {

namespace {

// The file bytes of a section: an overflowing range is `malformed`, one past the end means the
// file was cut short.
Result<std::span<const std::byte>, ElfError> file_range(std::span<const std::byte> file,
                                                        uint64_t offset, uint64_t size,
                                                        ElfError malformed) {
    if (!checked_add(offset, size)) return malformed;
    auto bytes = slice(file, offset, size);
    if (!bytes) return ElfError::Truncated;
    return *bytes;
}

// The section header table, honouring gABI extended numbering: when e_shnum is 0 and a table
// exists, the real count is section 0's sh_size. Empty when the file has no sections.
Result<std::span<const std::byte>, ElfError> section_table(std::span<const std::byte> file,
                                                           const Elf64_Ehdr& h) {
    if (h.e_shoff == 0) return std::span<const std::byte>{};
    if (h.e_shentsize != sizeof(Elf64_Shdr)) return ElfError::BadSectionHeaders;
    uint64_t count = h.e_shnum;
    if (count == 0) {
        auto first = read_at<Elf64_Shdr>(file, h.e_shoff);
        if (!first) return ElfError::Truncated;
        count = first->sh_size;
    }
    auto size = checked_mul<uint64_t>(count, sizeof(Elf64_Shdr));
    if (!size) return ElfError::BadSectionHeaders;
    return file_range(file, h.e_shoff, *size, ElfError::BadSectionHeaders);
}

std::optional<Elf64_Shdr> find_section(std::span<const std::byte> table, uint32_t type) {
    for (uint64_t offset = 0; offset < table.size(); offset += sizeof(Elf64_Shdr)) {
        auto shdr = read_at<Elf64_Shdr>(table, offset);
        if (shdr && shdr->sh_type == type) return shdr;
    }
    return std::nullopt;
}

// A function-like symbol type: what a return address can point into.
bool is_code(uint8_t info) {
    uint8_t type = st_type(info);
    return type == STT_FUNC || type == STT_GNU_IFUNC || type == STT_NOTYPE;
}

}  // namespace

Result<SymbolTable, ElfError> SymbolTable::parse(std::span<const std::byte> file) {
    Elf64_Ehdr header = TRY(read_elf_header(file));
    auto sections = TRY(section_table(file, header));
    SymbolTable table;
    auto symtab = find_section(sections, SHT_SYMTAB);
    if (!symtab) {
        symtab = find_section(sections, SHT_DYNSYM);
        table.m_dynamic = symtab.has_value();
    }
    if (!symtab) return table;  // stripped: nothing to look up, which is not an error
    if (symtab->sh_entsize != sizeof(Elf64_Sym) || symtab->sh_size % sizeof(Elf64_Sym) != 0)
        return ElfError::BadSymbolTable;
    auto strtab = read_at<Elf64_Shdr>(sections, uint64_t(symtab->sh_link) * sizeof(Elf64_Shdr));
    if (!strtab || strtab->sh_type != SHT_STRTAB) return ElfError::BadSymbolTable;
    table.m_symbols =
        TRY(file_range(file, symtab->sh_offset, symtab->sh_size, ElfError::BadSymbolTable));
    table.m_strings =
        TRY(file_range(file, strtab->sh_offset, strtab->sh_size, ElfError::BadSymbolTable));
    return table;
}

std::optional<SymbolTable::Candidate> SymbolTable::code_candidate(size_t index) const {
    auto sym = read_at<Elf64_Sym>(m_symbols, uint64_t(index) * sizeof(Elf64_Sym));
    if (!sym || !is_code(sym->st_info) || sym->st_shndx == SHN_UNDEF) return std::nullopt;
    if (sym->st_name == 0 || sym->st_name >= m_strings.size()) return std::nullopt;
    if (m_strings[sym->st_name] == std::byte{0}) return std::nullopt;
    return Candidate{index, sym->st_value, sym->st_size};
}

std::optional<Symbol> SymbolTable::code_symbol(size_t index) const {
    auto candidate = code_candidate(index);
    if (!candidate) return std::nullopt;
    auto sym = read_at<Elf64_Sym>(m_symbols, uint64_t(index) * sizeof(Elf64_Sym));
    // The name runs to its NUL or, in a string table missing its final NUL, to the table's end.
    auto rest = m_strings.subspan(sym->st_name);
    size_t length = 0;
    while (length < rest.size() && rest[length] != std::byte{0}) ++length;
    return Symbol{
        {reinterpret_cast<const char*>(rest.data()), length}, candidate->start, candidate->size};
}

std::optional<Symbol> SymbolTable::lookup(uint64_t address) const {
    std::optional<Symbol> result;
    lookup_many({&address, 1}, {&result, 1});
    return result;
}

void SymbolTable::lookup_many(std::span<const uint64_t> addresses,
                              std::span<std::optional<Symbol>> out) const {
    struct Best {
        std::optional<Candidate> containing;  // innermost sized symbol holding the address
        std::optional<Candidate> label;       // nearest unsized symbol at or below it
        std::optional<uint64_t> fence;        // latest start of a sized symbol ending before it
    };
    for (auto& result : out) result = std::nullopt;
    size_t count = addresses.size() < out.size() ? addresses.size() : out.size();
    if (count > kMaxBatch) count = kMaxBatch;
    Best best[kMaxBatch];
    for (size_t i = 0; i < entry_count(); ++i) {
        auto s = code_candidate(i);
        if (!s) continue;
        for (size_t a = 0; a < count; ++a) {
            uint64_t address = addresses[a];
            Best& b = best[a];
            if (s->start > address) continue;
            if (s->size == 0) {
                if (!b.label || s->start > b.label->start) b.label = s;
            } else if (address - s->start < s->size) {
                if (!b.containing || s->start > b.containing->start) b.containing = s;
            } else if (!b.fence || s->start > *b.fence) {
                b.fence = s->start;
            }
        }
    }
    for (size_t a = 0; a < count; ++a) {
        const Best& b = best[a];
        if (b.containing)
            out[a] = code_symbol(b.containing->index);
        else if (b.label && (!b.fence || *b.fence < b.label->start))
            out[a] = code_symbol(b.label->index);
    }
}

std::optional<Symbol> SymbolTable::find(std::string_view name) const {
    for (size_t i = 0; i < entry_count(); ++i) {
        auto symbol = code_symbol(i);
        if (symbol && symbol->name == name) return symbol;
    }
    return std::nullopt;
}

}  // namespace lib::elf
