// Test helper: tiny PVH kernel ELF files built in memory (ELF32 or ELF64, x86), laid out as
// header, program headers (the PT_NOTE first when there is one, then the PT_LOADs), the
// PT_NOTE's contents, then each PT_LOAD's file bytes; plus the note records that go in the
// PT_NOTE and in-place edits of a built file's headers.
#pragma once

#include <elf.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace phx_test {

// One ELF note record: namesz, descsz, type, the name with its NUL, the descriptor, each padded
// to 4 bytes (the ELF gABI's note layout, which both ELF classes use on x86).
inline std::vector<std::byte> elf_note(std::string_view name, uint32_t type,
                                       const std::vector<std::byte>& desc) {
    std::vector<std::byte> out;
    auto put32 = [&](uint32_t v) {
        const auto* p = reinterpret_cast<const std::byte*>(&v);
        out.insert(out.end(), p, p + 4);
    };
    auto pad = [&] {
        while (out.size() % 4) out.push_back(std::byte{0});
    };
    put32(uint32_t(name.size() + 1));
    put32(uint32_t(desc.size()));
    put32(type);
    for (char c : name) out.push_back(std::byte(c));
    out.push_back(std::byte{0});
    pad();
    out.insert(out.end(), desc.begin(), desc.end());
    pad();
    return out;
}

// The Xen note "Xen"/type with a little-endian value of desc_size (4 or 8) bytes.
inline std::vector<std::byte> xen_note(uint32_t type, uint64_t value, size_t desc_size = 4) {
    std::vector<std::byte> desc(desc_size);
    std::memcpy(desc.data(), &value, desc_size < 8 ? desc_size : 8);
    return elf_note("Xen", type, desc);
}

inline constexpr uint32_t kXenPhys32Entry = 18;

inline std::vector<std::byte> pvh_note(uint32_t entry) { return xen_note(kXenPhys32Entry, entry); }

inline std::vector<std::byte> concat(std::vector<std::byte> a, const std::vector<std::byte>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

inline std::vector<std::byte> pattern(size_t size, uint8_t seed) {
    std::vector<std::byte> out(size);
    for (size_t i = 0; i < size; ++i) out[i] = std::byte(uint8_t(seed + i * 7));
    return out;
}

struct ElfLoad {
    uint64_t paddr;
    std::vector<std::byte> bytes;  // p_filesz bytes
    uint64_t memsz;
};

struct ElfSpec {
    bool elf64 = true;
    uint16_t machine = EM_X86_64;
    std::vector<ElfLoad> loads;
    std::vector<std::byte> notes;  // PT_NOTE contents; no PT_NOTE when empty
};

namespace detail {

template <typename Ehdr, typename Phdr>
std::vector<std::byte> build_elf(const ElfSpec& spec, unsigned char elf_class) {
    size_t phnum = spec.loads.size() + (spec.notes.empty() ? 0 : 1);
    size_t data = sizeof(Ehdr) + phnum * sizeof(Phdr);
    std::vector<std::byte> file(data);

    Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = elf_class;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = spec.machine;
    eh.e_version = EV_CURRENT;
    eh.e_entry = 0x100000;
    eh.e_phoff = sizeof(Ehdr);
    eh.e_ehsize = sizeof(Ehdr);
    eh.e_phentsize = sizeof(Phdr);
    eh.e_phnum = uint16_t(phnum);
    std::memcpy(file.data(), &eh, sizeof(eh));

    size_t index = 0;
    auto add = [&](uint32_t type, uint64_t paddr, const std::vector<std::byte>& bytes,
                   uint64_t memsz) {
        Phdr ph{};
        ph.p_type = type;
        ph.p_offset = decltype(ph.p_offset)(file.size());
        ph.p_vaddr = decltype(ph.p_vaddr)(paddr);
        ph.p_paddr = decltype(ph.p_paddr)(paddr);
        ph.p_filesz = decltype(ph.p_filesz)(bytes.size());
        ph.p_memsz = decltype(ph.p_memsz)(memsz);
        ph.p_flags = type == PT_LOAD ? PF_R | PF_X : PF_R;
        ph.p_align = 4;
        std::memcpy(file.data() + sizeof(Ehdr) + index++ * sizeof(Phdr), &ph, sizeof(ph));
        file.insert(file.end(), bytes.begin(), bytes.end());
    };
    if (!spec.notes.empty()) add(PT_NOTE, 0, spec.notes, spec.notes.size());
    for (const ElfLoad& load : spec.loads) add(PT_LOAD, load.paddr, load.bytes, load.memsz);
    return file;
}

}  // namespace detail

inline std::vector<std::byte> build_elf(const ElfSpec& spec) {
    return spec.elf64 ? detail::build_elf<Elf64_Ehdr, Elf64_Phdr>(spec, ELFCLASS64)
                      : detail::build_elf<Elf32_Ehdr, Elf32_Phdr>(spec, ELFCLASS32);
}

// A kernel the way bench/boot/null_kernel.S links: one PT_LOAD at 1 MiB, a PVH note.
inline ElfSpec simple_kernel(bool elf64 = true, uint32_t entry = 0x100000, uint64_t filesz = 0x40,
                             uint64_t memsz = 0x1000) {
    ElfSpec spec;
    spec.elf64 = elf64;
    spec.machine = elf64 ? EM_X86_64 : EM_386;
    spec.loads.push_back({0x100000, pattern(filesz, 0x11), memsz});
    spec.notes = pvh_note(entry);
    return spec;
}

// Edits one header of a built file in place (Ehdr: Elf64_Ehdr or Elf32_Ehdr; Phdr likewise).
template <typename Ehdr, typename F>
void edit_ehdr(std::vector<std::byte>& file, F edit) {
    Ehdr eh;
    std::memcpy(&eh, file.data(), sizeof(eh));
    edit(eh);
    std::memcpy(file.data(), &eh, sizeof(eh));
}

template <typename Phdr, typename F>
void edit_phdr(std::vector<std::byte>& file, size_t index, size_t phoff, F edit) {
    Phdr ph;
    std::memcpy(&ph, file.data() + phoff + index * sizeof(Phdr), sizeof(ph));
    edit(ph);
    std::memcpy(file.data() + phoff + index * sizeof(Phdr), &ph, sizeof(ph));
}

}  // namespace phx_test
