// Function symbols of an ELF file, for symbolizing backtraces: .symtab/.strtab when present,
// else .dynsym/.dynstr. No allocation, so lookups scan the table: O(number of symbols).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "lib/base/result.h"
#include "lib/elf/elf.h"

namespace lib::elf {

struct Symbol {
    std::string_view name;  // a view into the file
    uint64_t start;         // link-time address (st_value)
    uint64_t size;          // 0 for unsized labels
    uint64_t offset_of(uint64_t address) const { return address - start; }
};

class SymbolTable {
public:
    // Validates the ELF identification, the section header table (including gABI extended
    // section numbering) and the chosen symbol table and its string table. A file without
    // either table (stripped) gives an empty SymbolTable, not an error. The span must outlive
    // the SymbolTable.
    static Result<SymbolTable, ElfError> parse(std::span<const std::byte> file);

    // The function containing the link-time address (subtract a PIE's load base first): the
    // innermost sized STT_FUNC/STT_GNU_IFUNC whose [start, start + size) holds it; failing that,
    // the nearest unsized STT_FUNC/STT_NOTYPE label at or below it, unless a sized function that
    // starts at or after that label ends before the address. O(n).
    std::optional<Symbol> lookup(uint64_t address) const;
    // lookup() for many addresses in one pass over the table (out[i] for addresses[i]; the
    // addresses past kMaxBatch or past out's size get nullopt): a backtrace's frames in one file
    // cost one scan, and names are resolved only for the winners.
    static constexpr size_t kMaxBatch = 64;
    void lookup_many(std::span<const uint64_t> addresses,
                     std::span<std::optional<Symbol>> out) const;
    // The first code symbol with this name. O(n).
    std::optional<Symbol> find(std::string_view name) const;

    // Calls fn(const Symbol&) for every defined, named code symbol, in table order.
    template <typename Fn>
    void for_each(Fn&& fn) const {
        for (size_t i = 0; i < entry_count(); ++i)
            if (auto symbol = code_symbol(i)) fn(*symbol);
    }

    // Table entries, including the reserved null symbol at index 0.
    size_t entry_count() const { return m_symbols.size() / sizeof(Elf64_Sym); }
    bool empty() const { return entry_count() == 0; }
    // True when the symbols came from .dynsym (the file had no .symtab).
    bool is_dynamic() const { return m_dynamic; }

private:
    SymbolTable() = default;
    // Entry i as a Symbol when it is a defined, named function or label; nullopt otherwise.
    std::optional<Symbol> code_symbol(size_t index) const;
    // Entry i's start and size when it is a defined code symbol with a non-empty name,
    // without measuring the name (the hot loop of lookup_many).
    struct Candidate {
        size_t index;
        uint64_t start, size;
    };
    std::optional<Candidate> code_candidate(size_t index) const;

    std::span<const std::byte> m_symbols;  // whole Elf64_Sym entries, inside the file
    std::span<const std::byte> m_strings;  // the linked string table, inside the file
    bool m_dynamic = false;
};

}  // namespace lib::elf
