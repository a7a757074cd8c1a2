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

// The PHYS32_ENTRY descriptor in a PT_NOTE segment, if present.
bool find_pvh_entry(std::span<const std::byte> file, const Phdr& note, uint32_t& entry) {
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
        if (xen && header[2] == lib::pvh::kElfNotePhys32Entry &&
            (header[1] == 4 || header[1] == 8)) {
            uint64_t value = 0;
            std::memcpy(&value, file.data() + desc_at, header[1]);
            if (value > UINT32_MAX) return false;
            entry = uint32_t(value);
            return true;
        }
        pos = next;
    }
    return false;
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
