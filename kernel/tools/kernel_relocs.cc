// Build tool (host): the kernel's relocation table for KASLR, from a kernel linked with
// --emit-relocs. Lists every place in the image that holds an absolute address of the image:
// R_X86_64_64 words and R_X86_64_32S immediates whose symbol lies in the image (link-time
// physical offsets of the sites, sorted), as assembly for the .kaslr_relocs section that
// kernel/arch/x86_64/kaslr.cc reads. Fails on anything the boot-time slide could not fix: a
// PC-relative reference across the image's edge, a zero-extended 32-bit absolute address,
// a GOT reference, an unknown relocation type.
//   kernel_relocs KERNEL_ELF OUT.S
//   kernel_relocs --empty OUT.S    (the placeholder linked into the first pass)
#include <elf.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

constexpr uint64_t kKernelBase = 0xffffffff80000000;

struct Tables {
    std::vector<uint32_t> words;       // R_X86_64_64 sites
    std::vector<uint32_t> immediates;  // R_X86_64_32S sites
};

[[noreturn]] void fail(const std::string& why) {
    std::fprintf(stderr, "kernel_relocs: %s\n", why.c_str());
    std::exit(1);
}

std::string hex(uint64_t value) {
    char text[24];
    std::snprintf(text, sizeof(text), "%#llx", static_cast<unsigned long long>(value));
    return text;
}

class Elf {
public:
    explicit Elf(std::vector<char> bytes) : m_bytes(std::move(bytes)) {
        const auto& eh = at<Elf64_Ehdr>(0);
        if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
            eh.e_shentsize != sizeof(Elf64_Shdr))
            fail("not an ELF64 file with section headers");
        for (unsigned i = 0; i < eh.e_shnum; ++i)
            m_sections.push_back(at<Elf64_Shdr>(eh.e_shoff + uint64_t(i) * sizeof(Elf64_Shdr)));
    }

    template <typename T>
    const T& at(uint64_t offset) const {
        if (offset > m_bytes.size() || sizeof(T) > m_bytes.size() - offset)
            fail("truncated ELF at " + hex(offset));
        return *reinterpret_cast<const T*>(m_bytes.data() + offset);
    }
    const std::vector<Elf64_Shdr>& sections() const { return m_sections; }
    const Elf64_Shdr& section(uint32_t index) const {
        if (index >= m_sections.size()) fail("bad section index");
        return m_sections[index];
    }
    const Elf64_Sym& symbol(const Elf64_Shdr& symtab, uint64_t index) const {
        return at<Elf64_Sym>(symtab.sh_offset + index * sizeof(Elf64_Sym));
    }
    uint64_t symbol_value(const std::string& name) const {
        for (const Elf64_Shdr& s : m_sections) {
            if (s.sh_type != SHT_SYMTAB) continue;
            const Elf64_Shdr& strtab = section(s.sh_link);
            for (uint64_t i = 0; i < s.sh_size / sizeof(Elf64_Sym); ++i) {
                const Elf64_Sym& sym = symbol(s, i);
                const char* text = &at<char>(strtab.sh_offset + sym.st_name);
                if (name == text) return sym.st_value;
            }
        }
        fail("no symbol " + name);
    }

private:
    std::vector<char> m_bytes;
    std::vector<Elf64_Shdr> m_sections;
};

Tables collect(const Elf& elf) {
    uint64_t low = elf.symbol_value("kernel_text_start");
    uint64_t high = elf.symbol_value("kernel_image_end");
    auto in_image = [&](uint64_t address) { return address >= low && address <= high; };
    Tables tables;
    for (const Elf64_Shdr& rela : elf.sections()) {
        if (rela.sh_type == SHT_REL) fail("REL sections are not expected on x86-64");
        if (rela.sh_type != SHT_RELA) continue;
        if (!(elf.section(rela.sh_info).sh_flags & SHF_ALLOC)) continue;  // debug info
        const Elf64_Shdr& symtab = elf.section(rela.sh_link);
        for (uint64_t i = 0; i < rela.sh_size / sizeof(Elf64_Rela); ++i) {
            const auto& r = elf.at<Elf64_Rela>(rela.sh_offset + i * sizeof(Elf64_Rela));
            uint32_t type = ELF64_R_TYPE(r.r_info);
            uint64_t symbol = ELF64_R_SYM(r.r_info);
            const Elf64_Sym& sym = elf.symbol(symtab, symbol);
            bool undefined_weak = symbol != 0 && sym.st_shndx == SHN_UNDEF;
            bool site_in = in_image(r.r_offset) && r.r_offset < high;
            bool target_in = symbol != 0 && !undefined_weak && in_image(sym.st_value);
            std::string where = "at " + hex(r.r_offset) + " (type " + std::to_string(type) + ")";
            switch (type) {
            case R_X86_64_NONE:
            case R_X86_64_SIZE32:
            case R_X86_64_SIZE64:
                break;
            case R_X86_64_64:
            case R_X86_64_32S:
                // Sites outside the image are the boot section's: it runs once, before the
                // slide, at its physical address.
                if (target_in && site_in)
                    (type == R_X86_64_64 ? tables.words : tables.immediates)
                        .push_back(uint32_t(r.r_offset - kKernelBase));
                break;
            case R_X86_64_32:
                if (target_in) fail("a zero-extended 32-bit address of the image " + where);
                break;
            case R_X86_64_PC32:
            case R_X86_64_PLT32:
            case R_X86_64_PC64:
                if (symbol != 0 && !undefined_weak && site_in != target_in)
                    fail("a PC-relative reference across the image's edge " + where);
                break;
            default:
                fail("a relocation the slide cannot handle " + where);
            }
        }
    }
    for (auto* list : {&tables.words, &tables.immediates}) {
        std::sort(list->begin(), list->end());
        list->erase(std::unique(list->begin(), list->end()), list->end());
    }
    return tables;
}

void emit_list(std::FILE* out, const char* name, const std::vector<uint32_t>& list) {
    std::fprintf(out, "%s:", name);
    for (size_t i = 0; i < list.size(); ++i)
        std::fprintf(out, "%s%#x", i % 8 == 0 ? "\n.long " : ", ", list[i]);
    std::fprintf(out, "\n");
}

void emit(const char* path, const Tables& tables) {
    std::FILE* out = std::fopen(path, "w");
    if (!out) fail(std::string("cannot write ") + path);
    std::fprintf(out,
                 "// Generated by kernel/tools/kernel_relocs.cc. Do not edit.\n"
                 ".section .kaslr_relocs, \"a\"\n"
                 ".globl kaslr_relocs64_count, kaslr_relocs32_count, kaslr_relocs64, "
                 "kaslr_relocs32\n"
                 ".balign 8\n"
                 "kaslr_relocs64_count: .quad %zu\n"
                 "kaslr_relocs32_count: .quad %zu\n",
                 tables.words.size(), tables.immediates.size());
    emit_list(out, "kaslr_relocs64", tables.words);
    emit_list(out, "kaslr_relocs32", tables.immediates);
    if (std::fclose(out) != 0) fail(std::string("cannot write ") + path);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) fail("usage: kernel_relocs (KERNEL_ELF | --empty) OUT.S");
    if (std::strcmp(argv[1], "--empty") == 0) {
        emit(argv[2], {});
        return 0;
    }
    std::ifstream in(argv[1], std::ios::binary);
    if (!in) fail(std::string("cannot read ") + argv[1]);
    Elf elf(std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
    emit(argv[2], collect(elf));
    return 0;
}
