#include "vmm/boot/kernel_image.h"

#include <elf.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "lib/pvh/start_info.h"

namespace vmm {

namespace {

// One program header, whichever ELF class it came from.
struct Phdr {
    uint32_t type;
    uint64_t offset;
    uint64_t paddr;
    uint64_t filesz;
    uint64_t memsz;
};

template <typename T>
bool read_at(std::span<const std::byte> file, uint64_t offset, T& out) {
    if (offset > file.size() || sizeof(T) > file.size() - offset) return false;
    std::memcpy(&out, file.data() + offset, sizeof(T));
    return true;
}

template <typename Ehdr, typename ElfPhdr>
bool read_phdrs(std::span<const std::byte> file, std::vector<Phdr>& out) {
    Ehdr eh;
    if (!read_at(file, 0, eh) || eh.e_phentsize != sizeof(ElfPhdr) || eh.e_phnum == 0 ||
        eh.e_phnum > 256)
        return false;
    for (unsigned i = 0; i < eh.e_phnum; ++i) {
        ElfPhdr ph;
        if (!read_at(file, uint64_t(eh.e_phoff) + uint64_t(i) * sizeof(ElfPhdr), ph)) return false;
        out.push_back({ph.p_type, ph.p_offset, ph.p_paddr, ph.p_filesz, ph.p_memsz});
    }
    return true;
}

// Calls fn(type, descriptor) for each "Xen" note of a PT_NOTE segment, until fn returns true;
// false when the segment is malformed (its notes are then not trusted).
template <typename Fn>
bool for_each_xen_note(std::span<const std::byte> file, const Phdr& note, Fn&& fn) {
    if (note.offset > file.size() || note.filesz > file.size() - note.offset) return false;
    uint64_t pos = note.offset, end = note.offset + note.filesz;
    while (end - pos >= 12) {
        uint32_t header[3];  // namesz, descsz, type
        std::memcpy(header, file.data() + pos, sizeof(header));
        uint64_t name_at = pos + 12;
        uint64_t desc_at = name_at + ((uint64_t(header[0]) + 3) & ~uint64_t(3));
        uint64_t next = desc_at + ((uint64_t(header[1]) + 3) & ~uint64_t(3));
        if (next > end) return false;
        bool xen = header[0] == 4 && std::memcmp(file.data() + name_at, "Xen", 4) == 0;
        if (xen && fn(header[2], file.subspan(desc_at, header[1]))) return true;
        pos = next;
    }
    return true;
}

// The PHYS32_ENTRY descriptor in a PT_NOTE segment, if present.
bool find_pvh_entry(std::span<const std::byte> file, const Phdr& note, uint32_t& entry) {
    bool found = false;
    bool ok = for_each_xen_note(file, note, [&](uint32_t type, std::span<const std::byte> desc) {
        if (type != lib::pvh::kElfNotePhys32Entry || (desc.size() != 4 && desc.size() != 8))
            return false;
        uint64_t value = 0;
        std::memcpy(&value, desc.data(), desc.size());
        found = value <= UINT32_MAX;
        entry = uint32_t(value);
        return true;
    });
    return ok && found;
}

// The PHYS32_RELOC descriptor: up to three 32-bit words (align, min, max).
std::optional<KernelRelocation> find_relocation(std::span<const std::byte> file, const Phdr& note) {
    std::optional<KernelRelocation> found;
    bool ok = for_each_xen_note(file, note, [&](uint32_t type, std::span<const std::byte> desc) {
        if (type != lib::pvh::kElfNotePhys32Reloc) return false;
        KernelRelocation reloc;
        uint32_t* fields[] = {&reloc.align, &reloc.min, &reloc.max};
        for (size_t i = 0; i < 3 && desc.size() >= 4 * (i + 1); ++i)
            std::memcpy(fields[i], desc.data() + 4 * i, 4);
        // An alignment that is not a power of two of at least a page is not honoured.
        if (reloc.align >= 4096 && (reloc.align & (reloc.align - 1)) == 0 && reloc.min <= reloc.max)
            found = reloc;
        return true;
    });
    return ok ? found : std::nullopt;
}

}  // namespace

Expected<KernelImage> KernelImage::parse(std::span<const std::byte> file, const std::string& name) {
    auto bad = [&](const std::string& why) { return usage_error(name + ": " + why); };
    unsigned char ident[EI_NIDENT];
    if (!read_at(file, 0, ident) || std::memcmp(ident, ELFMAG, SELFMAG) != 0)
        return bad("not an ELF file");
    if (ident[EI_DATA] != ELFDATA2LSB) return bad("not a little-endian ELF");
    std::vector<Phdr> phdrs;
    uint16_t machine = 0;
    bool ok = false;
    if (ident[EI_CLASS] == ELFCLASS64) {
        Elf64_Ehdr eh;
        ok = read_at(file, 0, eh) && read_phdrs<Elf64_Ehdr, Elf64_Phdr>(file, phdrs);
        machine = ok ? eh.e_machine : 0;
    } else if (ident[EI_CLASS] == ELFCLASS32) {
        Elf32_Ehdr eh;
        ok = read_at(file, 0, eh) && read_phdrs<Elf32_Ehdr, Elf32_Phdr>(file, phdrs);
        machine = ok ? eh.e_machine : 0;
    } else {
        return bad("unknown ELF class");
    }
    if (!ok) return bad("truncated or malformed ELF program headers");
    if (machine != EM_X86_64 && machine != EM_386) return bad("not an x86 kernel ELF");

    KernelImage image;
    bool have_entry = false;
    image.m_low = UINT64_MAX;
    for (const Phdr& ph : phdrs) {
        if (ph.type == PT_NOTE && !have_entry) have_entry = find_pvh_entry(file, ph, image.m_entry);
        if (ph.type == PT_NOTE && !image.m_relocation) image.m_relocation = find_relocation(file, ph);
        if (ph.type != PT_LOAD || ph.memsz == 0) continue;
        uint64_t end;
        if (ph.filesz > ph.memsz || ph.offset > file.size() ||
            ph.filesz > file.size() - ph.offset || __builtin_add_overflow(ph.paddr, ph.memsz, &end))
            return bad("a PT_LOAD segment lies outside the file or wraps");
        KernelSegment segment{ph.paddr, {}, ph.memsz};
        segment.bytes.assign(file.begin() + ptrdiff_t(ph.offset),
                             file.begin() + ptrdiff_t(ph.offset + ph.filesz));
        image.m_segments.push_back(std::move(segment));
        image.m_low = std::min(image.m_low, ph.paddr);
        image.m_high = std::max(image.m_high, end);
    }
    if (!have_entry) return bad("not a PVH kernel (no Xen PHYS32_ENTRY ELF note)");
    if (image.m_segments.empty()) return bad("no loadable segments");
    return image;
}

Expected<KernelImage> KernelImage::load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return system_error(ErrorKind::Usage, "cannot read the kernel " + path);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return parse(std::as_bytes(std::span(bytes)), path);
}

}  // namespace vmm
