// Addresses inside a mapped ELF file -> the functions holding them, for backtraces of the
// program and its shared libraries: file offset -> link-time address through the PT_LOAD
// headers, then the symbol table (lib/elf/symbol_table.h). Every field of the file is hostile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "lib/base/result.h"
#include "lib/elf/elf.h"
#include "lib/elf/symbol_table.h"

namespace lib::elf {

// Where one file offset lands: its link-time address, and the function there when known.
struct FileLocation {
    uint64_t vaddr;
    std::optional<Symbol> symbol;
};

class ElfSymbolizer {
public:
    // Checks the ELF header, the program header table (within the file, at most
    // kMaxProgramHeaders entries) and the symbol table. Needs no e_entry, no PT_INTERP and
    // no particular e_type, so shared libraries and the vDSO parse too. The span must outlive
    // the ElfSymbolizer.
    static Result<ElfSymbolizer, ElfError> parse(std::span<const std::byte> file);

    // The link-time address of file byte `offset`: inside the file bytes of a PT_LOAD
    // (p_offset <= offset < p_offset + p_filesz). nullopt elsewhere.
    std::optional<uint64_t> vaddr_of(uint64_t offset) const;

    // For each file offset, its location (nullopt outside every PT_LOAD), in one pass over
    // the symbol table; at most SymbolTable::kMaxBatch offsets, the rest get nullopt.
    void locate(std::span<const uint64_t> offsets,
                std::span<std::optional<FileLocation>> out) const;

    const SymbolTable& symbols() const { return m_symbols; }

private:
    ElfSymbolizer(ProgramHeaders phdrs, SymbolTable symbols) : m_phdrs(phdrs), m_symbols(symbols) {}

    ProgramHeaders m_phdrs;
    SymbolTable m_symbols;
};

}  // namespace lib::elf
