// File offsets -> link-time addresses -> symbols. Program headers per the System V gABI ch. 5
// "Program Header": a PT_LOAD maps file bytes [p_offset, p_offset + p_filesz) at p_vaddr.
#include "lib/elf/symbolize.h"

#include "lib/base/checked.h"

namespace lib::elf {

Result<ElfSymbolizer, ElfError> ElfSymbolizer::parse(std::span<const std::byte> file) {
    Elf64_Ehdr header = TRY(read_elf_header(file));
    if (header.e_phnum == 0 || header.e_phnum > kMaxProgramHeaders ||
        header.e_phentsize != sizeof(Elf64_Phdr))
        return ElfError::BadProgramHeaders;
    uint64_t size = uint64_t(header.e_phnum) * sizeof(Elf64_Phdr);  // <= one page
    if (!range_within(header.e_phoff, size, file.size())) return ElfError::Truncated;
    ProgramHeaders phdrs(file.subspan(size_t(header.e_phoff), size_t(size)));
    SymbolTable symbols = TRY(SymbolTable::parse(file));
    return ElfSymbolizer(phdrs, symbols);
}

std::optional<uint64_t> ElfSymbolizer::vaddr_of(uint64_t offset) const {
    for (const Elf64_Phdr ph : m_phdrs) {
        if (ph.p_type != PT_LOAD || offset < ph.p_offset) continue;
        uint64_t delta = offset - ph.p_offset;
        if (delta >= ph.p_filesz) continue;
        auto vaddr = checked_add(ph.p_vaddr, delta);
        if (vaddr) return vaddr;
    }
    return std::nullopt;
}

void ElfSymbolizer::locate(std::span<const uint64_t> offsets,
                           std::span<std::optional<FileLocation>> out) const {
    for (auto& location : out) location = std::nullopt;
    uint64_t vaddrs[SymbolTable::kMaxBatch];
    size_t slot_of[SymbolTable::kMaxBatch];  // which output each looked-up address fills
    size_t count = 0;
    for (size_t i = 0; i < offsets.size() && i < out.size() && i < SymbolTable::kMaxBatch; ++i) {
        auto vaddr = vaddr_of(offsets[i]);
        if (!vaddr) continue;
        out[i] = FileLocation{*vaddr, std::nullopt};
        vaddrs[count] = *vaddr;
        slot_of[count++] = i;
    }
    std::optional<Symbol> found[SymbolTable::kMaxBatch];
    m_symbols.lookup_many({vaddrs, count}, {found, count});
    for (size_t k = 0; k < count; ++k) out[slot_of[k]]->symbol = found[k];
}

}  // namespace lib::elf
