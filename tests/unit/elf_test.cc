// lib/elf: ElfImage validation (every rejection reason on crafted images, every accessor),
// SymbolTable lookups, and both parsed against real binaries (this test binary, /bin/true).
#include "lib/elf/elf.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "lib/elf/initial_stack.h"  // AT_* for reading /proc/self/auxv
#include "lib/elf/symbol_table.h"
#include "lib/elf/symbolize.h"

using namespace lib::elf;

namespace lib::elf {
// Readable failures: gtest finds this by ADL.
void PrintTo(ElfError error, std::ostream* out) { *out << describe(error); }
}  // namespace lib::elf

namespace {

// Builds ELF images in memory. The default is a valid static x86-64 ET_EXEC: a read/execute
// PT_LOAD holding the headers and a read/write PT_LOAD with bss.
struct ElfBuilder {
    Elf64_Ehdr header{};
    std::vector<Elf64_Phdr> phdrs;
    std::vector<Elf64_Shdr> shdrs;
    std::vector<std::pair<uint64_t, std::string>> blobs;  // raw bytes at file offsets
    size_t file_size = 0x3000;
    bool auto_counts = true;  // e_phnum/e_shnum from the vectors

    ElfBuilder() {
        const uint8_t ident[] = {0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2LSB, EV_CURRENT};
        std::memcpy(header.e_ident, ident, sizeof(ident));
        header.e_type = ET_EXEC;
        header.e_machine = EM_X86_64;
        header.e_version = EV_CURRENT;
        header.e_entry = 0x400100;
        header.e_phoff = sizeof(Elf64_Ehdr);
        header.e_ehsize = sizeof(Elf64_Ehdr);
        header.e_phentsize = sizeof(Elf64_Phdr);
        header.e_shentsize = sizeof(Elf64_Shdr);
        phdrs.push_back(load(0, 0x400000, 0x1000, 0x1000, PF_R | PF_X));
        phdrs.push_back(load(0x1000, 0x401000, 0x800, 0x2000, PF_R | PF_W));
    }

    static Elf64_Phdr load(uint64_t offset, uint64_t vaddr, uint64_t filesz, uint64_t memsz,
                           uint32_t flags) {
        return {PT_LOAD, flags, offset, vaddr, vaddr, filesz, memsz, 0x1000};
    }
    static Elf64_Phdr segment(uint32_t type, uint64_t offset, uint64_t vaddr, uint64_t filesz,
                              uint64_t memsz = 0, uint32_t flags = PF_R) {
        return {type, flags, offset, vaddr, vaddr, filesz, memsz ? memsz : filesz, 8};
    }

    // Turns the default image into a static PIE linked at 0.
    ElfBuilder& pie() {
        header.e_type = ET_DYN;
        header.e_entry = 0x100;
        phdrs[0].p_vaddr = phdrs[0].p_paddr = 0;
        phdrs[1].p_vaddr = phdrs[1].p_paddr = 0x1000;
        return *this;
    }

    // Adds PT_INTERP with the given raw bytes (include the NUL yourself) at offset 0x2000.
    ElfBuilder& interp(std::string bytes) {
        phdrs.insert(phdrs.begin(), segment(PT_INTERP, 0x2000, 0x402000, bytes.size()));
        blobs.emplace_back(0x2000, std::move(bytes));
        return *this;
    }

    std::vector<std::byte> build() const {
        Elf64_Ehdr h = header;
        if (auto_counts) {
            h.e_phnum = uint16_t(phdrs.size());
            h.e_shnum = uint16_t(shdrs.size());
        }
        std::vector<std::byte> out(file_size);
        put(out, 0, &h, sizeof(h));
        for (size_t i = 0; i < phdrs.size(); ++i)
            put(out, h.e_phoff + i * sizeof(Elf64_Phdr), &phdrs[i], sizeof(Elf64_Phdr));
        for (size_t i = 0; i < shdrs.size(); ++i)
            put(out, h.e_shoff + i * sizeof(Elf64_Shdr), &shdrs[i], sizeof(Elf64_Shdr));
        for (const auto& [offset, bytes] : blobs) put(out, offset, bytes.data(), bytes.size());
        return out;
    }

    // Copies what fits: tests deliberately point headers past the end of the file.
    static void put(std::vector<std::byte>& out, uint64_t offset, const void* data, size_t size) {
        for (size_t i = 0; i < size; ++i)
            if (offset + i >= offset && offset + i < out.size())
                out[offset + i] = static_cast<const std::byte*>(data)[i];
    }
};

ElfError parse_error(const std::vector<std::byte>& bytes) {
    auto result = ElfImage::parse(bytes);
    EXPECT_TRUE(result.is_error()) << "image unexpectedly accepted";
    return result.is_error() ? result.error() : ElfError::NotElf;
}

ElfError parse_error(const ElfBuilder& builder) { return parse_error(builder.build()); }

ElfImage parse_ok(const std::vector<std::byte>& bytes) {
    auto result = ElfImage::parse(bytes);
    EXPECT_FALSE(result.is_error()) << describe(result.error());
    return result.release_value();
}

TEST(ElfImage, ParsesStaticExecutable) {
    auto bytes = ElfBuilder().build();
    ElfImage image = parse_ok(bytes);
    EXPECT_EQ(image.type(), ET_EXEC);
    EXPECT_FALSE(image.is_pie());
    EXPECT_EQ(image.entry(), 0x400100u);
    EXPECT_EQ(image.phnum(), 2);
    EXPECT_EQ(image.phentsize(), sizeof(Elf64_Phdr));
    EXPECT_FALSE(image.interpreter());
    EXPECT_FALSE(image.is_dynamically_linked());
    EXPECT_FALSE(image.has_dynamic());
    EXPECT_FALSE(image.tls());
    EXPECT_FALSE(image.gnu_stack_flags());
    EXPECT_FALSE(image.executable_stack());
    EXPECT_EQ(image.load_bounds().start, 0x400000u);
    EXPECT_EQ(image.load_bounds().end, 0x403000u);
    EXPECT_EQ(image.load_bounds().size(), 0x3000u);
    // The table sits at file offset 64, inside the first PT_LOAD (offset 0 -> 0x400000).
    EXPECT_EQ(image.phdr_vaddr(), std::optional<uint64_t>(0x400040));
}

TEST(ElfImage, ProgramHeadersDecodeEveryEntry) {
    ElfBuilder b;
    b.phdrs.push_back(ElfBuilder::segment(PT_NOTE, 0x1800, 0x401800, 0x20));
    auto bytes = b.build();
    ElfImage image = parse_ok(bytes);
    auto headers = image.program_headers();
    ASSERT_EQ(headers.size(), 3u);
    size_t i = 0;
    for (Elf64_Phdr p : headers) {
        EXPECT_EQ(0, std::memcmp(&p, &b.phdrs[i], sizeof(p))) << "entry " << i;
        ++i;
    }
    EXPECT_EQ(i, 3u);
    EXPECT_EQ(headers[1].p_memsz, 0x2000u);
    EXPECT_EQ(image.find_segment(PT_NOTE)->p_vaddr, 0x401800u);
    EXPECT_FALSE(image.find_segment(PT_GNU_RELRO));
    auto data = image.file_bytes(headers[1]);
    ASSERT_TRUE(data);
    EXPECT_EQ(data->data(), bytes.data() + 0x1000);
    EXPECT_EQ(data->size(), 0x800u);
    Elf64_Phdr outside = headers[1];
    outside.p_offset = bytes.size() - 0x10;
    EXPECT_FALSE(image.file_bytes(outside));
}

TEST(ElfImage, HeadersAreReadUnaligned) {
    // The same image one byte into a buffer: every field read must tolerate misalignment.
    auto bytes = ElfBuilder().build();
    std::vector<std::byte> shifted(bytes.size() + 1);
    std::copy(bytes.begin(), bytes.end(), shifted.begin() + 1);
    auto result = ElfImage::parse(std::span<const std::byte>(shifted).subspan(1));
    ASSERT_FALSE(result.is_error());
    EXPECT_EQ(result.value().entry(), 0x400100u);
}

TEST(ElfImage, StaticPieHasDynamicButIsNotDynamicallyLinked) {
    ElfBuilder b;
    b.pie();
    b.phdrs.push_back(ElfBuilder::segment(PT_DYNAMIC, 0x1100, 0x1100, 0x100, 0, PF_R | PF_W));
    auto bytes = b.build();
    ElfImage image = parse_ok(bytes);
    EXPECT_TRUE(image.is_pie());
    EXPECT_TRUE(image.has_dynamic());
    EXPECT_FALSE(image.interpreter());
    EXPECT_FALSE(image.is_dynamically_linked());
    EXPECT_EQ(image.load_bounds().start, 0u);
    EXPECT_EQ(image.load_bounds().end, 0x3000u);
    EXPECT_EQ(image.phdr_vaddr(), std::optional<uint64_t>(0x40));
}

TEST(ElfImage, InterpreterMakesItDynamicallyLinked) {
    ElfBuilder b;
    b.pie().interp(std::string("/lib64/ld-linux-x86-64.so.2") + '\0');
    auto bytes = b.build();
    ElfImage image = parse_ok(bytes);
    ASSERT_TRUE(image.interpreter());
    EXPECT_EQ(*image.interpreter(), "/lib64/ld-linux-x86-64.so.2");
    EXPECT_TRUE(image.is_dynamically_linked());
    // Linux reads the path as a C string: an inner NUL ends it.
    ElfBuilder inner;
    inner.interp(std::string("/ld.so\0junk\0", 12));
    auto inner_bytes = inner.build();
    EXPECT_EQ(*parse_ok(inner_bytes).interpreter(), "/ld.so");
}

TEST(ElfImage, PtPhdrTakesPrecedence) {
    ElfBuilder b;
    b.phdrs.insert(b.phdrs.begin(), ElfBuilder::segment(PT_PHDR, 64, 0x400040, 3 * 56));
    b.phdrs[0].p_vaddr = 0x400777;  // deliberately not the computed address
    auto bytes = b.build();
    EXPECT_EQ(parse_ok(bytes).phdr_vaddr(), std::optional<uint64_t>(0x400777));
}

TEST(ElfImage, PhdrVaddrComputedFromCoveringLoad) {
    ElfBuilder b;
    b.header.e_phoff = 0x1100;  // inside the second PT_LOAD (offset 0x1000 -> 0x401000)
    auto bytes = b.build();
    EXPECT_EQ(parse_ok(bytes).phdr_vaddr(), std::optional<uint64_t>(0x401100));
    // A table that starts inside a segment but runs past its file bytes is not loaded.
    b.header.e_phoff = 0x1800 - 56;
    auto straddling = b.build();
    EXPECT_FALSE(parse_ok(straddling).phdr_vaddr());
    // A table outside every PT_LOAD's file bytes is not in memory at all.
    b.header.e_phoff = 0x2800;
    auto unloaded = b.build();
    EXPECT_FALSE(parse_ok(unloaded).phdr_vaddr());
}

TEST(ElfImage, TlsAndStackSegments) {
    ElfBuilder b;
    b.phdrs.push_back(ElfBuilder::segment(PT_TLS, 0x1400, 0x401400, 0x10, 0x40));
    b.phdrs.push_back(ElfBuilder::segment(PT_GNU_STACK, 0, 0, 0, 0, PF_R | PF_W));
    b.phdrs.back().p_memsz = 0;
    auto bytes = b.build();
    ElfImage image = parse_ok(bytes);
    ASSERT_TRUE(image.tls());
    EXPECT_EQ(image.tls()->p_filesz, 0x10u);
    EXPECT_EQ(image.tls()->p_memsz, 0x40u);
    EXPECT_EQ(image.gnu_stack_flags(), std::optional<uint32_t>(PF_R | PF_W));
    EXPECT_FALSE(image.executable_stack());
    b.phdrs.back().p_flags = PF_R | PF_W | PF_X;
    auto exec_bytes = b.build();
    EXPECT_TRUE(parse_ok(exec_bytes).executable_stack());
}

TEST(ElfImage, LoadBoundsArePageRounded) {
    ElfBuilder b;
    b.phdrs = {ElfBuilder::load(0x123, 0x400123, 0x10, 0x10, PF_R | PF_X),
               ElfBuilder::load(0x1000, 0x7f0000, 0, 0x1001, PF_R | PF_W),
               ElfBuilder::load(0x1000, 0x900000, 0, 0, PF_R)};  // empty: not counted
    b.header.e_entry = 0x400125;
    auto bytes = b.build();
    LoadBounds bounds = parse_ok(bytes).load_bounds();
    EXPECT_EQ(bounds.start, 0x400000u);
    EXPECT_EQ(bounds.end, 0x7f2000u);
}

TEST(ElfImage, SegmentEndingAtUserLimitIsAccepted) {
    ElfBuilder b;
    b.phdrs[1].p_vaddr = kUserAddressLimit - 0x2000;
    auto bytes = b.build();
    EXPECT_EQ(parse_ok(bytes).load_bounds().end, kUserAddressLimit);
    b.phdrs[1].p_vaddr += 0x1000;  // now ends one page into the guard page below 2^47
    EXPECT_EQ(parse_error(b), ElfError::BadSegment);
}

TEST(ElfImage, AlignmentZeroOneAndLargeAccepted) {
    ElfBuilder b;
    b.phdrs[0].p_align = 0;
    b.phdrs[1].p_align = 1;
    EXPECT_FALSE(ElfImage::parse(b.build()).is_error());
    b.phdrs[0].p_align = 0x200000;  // offset 0 and vaddr 0x400000 agree modulo 2 MiB
    EXPECT_FALSE(ElfImage::parse(b.build()).is_error());
}

TEST(ElfReject, NotElf) {
    EXPECT_EQ(parse_error(std::vector<std::byte>{}), ElfError::NotElf);
    EXPECT_EQ(parse_error(std::vector<std::byte>(3, std::byte{0x7f})), ElfError::NotElf);
    auto bytes = ElfBuilder().build();
    bytes[3] = std::byte{'G'};
    EXPECT_EQ(parse_error(bytes), ElfError::NotElf);
    const char script[] = "#!/bin/sh\necho hi\n";
    std::vector<std::byte> text(sizeof(script));
    std::memcpy(text.data(), script, sizeof(script));
    EXPECT_EQ(parse_error(text), ElfError::NotElf);
}

TEST(ElfReject, TruncatedHeader) {
    auto bytes = ElfBuilder().build();
    EXPECT_EQ(parse_error({bytes.begin(), bytes.begin() + 4}), ElfError::Truncated);
    EXPECT_EQ(parse_error({bytes.begin(), bytes.begin() + 15}), ElfError::Truncated);
    EXPECT_EQ(parse_error({bytes.begin(), bytes.begin() + 63}), ElfError::Truncated);
}

TEST(ElfReject, IdentificationAndMachine) {
    ElfBuilder b;
    b.header.e_ident[EI_CLASS] = ELFCLASS32;
    EXPECT_EQ(parse_error(b), ElfError::Not64Bit);
    auto short32 = b.build();
    short32.resize(52);  // a complete ELF32 header is shorter than ours: still "32-bit"
    EXPECT_EQ(parse_error(short32), ElfError::Not64Bit);

    b = ElfBuilder();
    b.header.e_ident[EI_DATA] = ELFDATA2MSB;
    EXPECT_EQ(parse_error(b), ElfError::NotLittleEndian);
    b = ElfBuilder();
    b.header.e_ident[EI_VERSION] = 0;
    EXPECT_EQ(parse_error(b), ElfError::BadVersion);
    b = ElfBuilder();
    b.header.e_version = 2;
    EXPECT_EQ(parse_error(b), ElfError::BadVersion);
    b = ElfBuilder();
    b.header.e_machine = EM_386;
    EXPECT_EQ(parse_error(b), ElfError::NotX86_64);
    b.header.e_machine = 183;  // EM_AARCH64
    EXPECT_EQ(parse_error(b), ElfError::NotX86_64);
}

TEST(ElfReject, NonExecutableTypes) {
    for (uint16_t type : {ET_NONE, ET_REL, ET_CORE, uint16_t(0xfe00)}) {
        ElfBuilder b;
        b.header.e_type = type;
        EXPECT_EQ(parse_error(b), ElfError::BadType) << "type " << type;
    }
}

TEST(ElfReject, ProgramHeaderTable) {
    ElfBuilder b;
    b.header.e_phentsize = 32;
    EXPECT_EQ(parse_error(b), ElfError::BadProgramHeaders);

    b = ElfBuilder();
    b.phdrs.clear();
    EXPECT_EQ(parse_error(b), ElfError::NoLoadSegments);

    b = ElfBuilder();
    b.auto_counts = false;
    b.header.e_phnum = kMaxProgramHeaders + 1;
    b.file_size = 0x10000;
    EXPECT_EQ(parse_error(b), ElfError::BadProgramHeaders);
    b.header.e_phnum = 0xffff;  // PN_XNUM
    EXPECT_EQ(parse_error(b), ElfError::BadProgramHeaders);

    b = ElfBuilder();
    b.header.e_phoff = b.file_size;  // just past the end
    EXPECT_EQ(parse_error(b), ElfError::Truncated);
    b.header.e_phoff = b.file_size - 56;  // first entry fits, second does not
    EXPECT_EQ(parse_error(b), ElfError::Truncated);
    b.header.e_phoff = UINT64_MAX - 8;  // offset + size wraps
    EXPECT_EQ(parse_error(b), ElfError::BadProgramHeaders);
}

TEST(ElfReject, MaximumProgramHeaderCountAccepted) {
    ElfBuilder b;
    while (b.phdrs.size() < kMaxProgramHeaders)
        b.phdrs.push_back(ElfBuilder::segment(PT_NOTE, 0x1800, 0x401800, 0x20));
    b.header.e_phoff = 0x1000;  // the table fills exactly [0x1000, 0x1ff8)
    EXPECT_FALSE(ElfImage::parse(b.build()).is_error());
}

TEST(ElfReject, LoadSegmentSizes) {
    ElfBuilder b;
    b.phdrs[1].p_filesz = b.phdrs[1].p_memsz + 1;
    EXPECT_EQ(parse_error(b), ElfError::BadSegment);

    b = ElfBuilder();
    b.phdrs[1].p_offset = 0xfffffffffffff000;  // offset + filesz wraps to exactly 0
    b.phdrs[1].p_filesz = 0x1000;
    EXPECT_EQ(parse_error(b), ElfError::BadSegment);

    b = ElfBuilder();
    b.phdrs[1].p_filesz = 0x2000 + 1;  // ends one byte past the file
    b.phdrs[1].p_memsz = 0x3000;
    EXPECT_EQ(parse_error(b), ElfError::Truncated);

    b = ElfBuilder();
    b.phdrs[1].p_offset = 0x3000;  // starts exactly at the end, with file bytes
    b.phdrs[1].p_vaddr = 0x403000;
    EXPECT_EQ(parse_error(b), ElfError::Truncated);
    b.phdrs[1].p_filesz = 0;  // pure bss at the end of the file is fine
    EXPECT_FALSE(ElfImage::parse(b.build()).is_error());
}

TEST(ElfReject, LoadSegmentAddresses) {
    ElfBuilder b;
    b.phdrs[1].p_vaddr = 0xfffffffffffff000;  // vaddr + memsz wraps
    b.phdrs[1].p_offset = 0x1000;
    EXPECT_EQ(parse_error(b), ElfError::BadSegment);

    b = ElfBuilder();
    b.phdrs[1].p_vaddr = uint64_t(1) << 47;  // beyond the user half
    EXPECT_EQ(parse_error(b), ElfError::BadSegment);

    b = ElfBuilder();
    b.phdrs[1].p_vaddr = 0xffffffff80000000;  // a kernel address
    EXPECT_EQ(parse_error(b), ElfError::BadSegment);
}

TEST(ElfReject, LoadSegmentAlignment) {
    ElfBuilder b;
    b.phdrs[1].p_align = 0x1800;  // not a power of two
    EXPECT_EQ(parse_error(b), ElfError::BadSegment);

    b = ElfBuilder();
    b.phdrs[1].p_vaddr = 0x401010;  // not congruent to p_offset modulo the page
    EXPECT_EQ(parse_error(b), ElfError::BadSegment);

    b = ElfBuilder();
    b.phdrs[1].p_align = 0x200000;
    b.phdrs[1].p_vaddr = 0x402000;  // 0x402000 - 0x1000: page-congruent but not modulo 2 MiB
    EXPECT_EQ(parse_error(b), ElfError::BadSegment);
    b.phdrs[1].p_vaddr = 0x601000;  // 0x601000 - 0x1000 = 3 * 2 MiB
    b.header.e_entry = 0x400100;
    EXPECT_FALSE(ElfImage::parse(b.build()).is_error());
}

TEST(ElfReject, NoLoadableSegments) {
    ElfBuilder b;
    b.phdrs = {ElfBuilder::segment(PT_NOTE, 0x100, 0x400100, 0x20)};
    EXPECT_EQ(parse_error(b), ElfError::NoLoadSegments);
    b.phdrs = {ElfBuilder::load(0, 0x400000, 0, 0, PF_R)};
    EXPECT_EQ(parse_error(b), ElfError::NoLoadSegments);
}

TEST(ElfReject, EntryOutsideLoadSegments) {
    ElfBuilder b;
    b.header.e_entry = 0x403000;  // one past the end of the bss
    EXPECT_EQ(parse_error(b), ElfError::BadEntry);
    b.header.e_entry = 0x402fff;  // the last byte of the last segment
    EXPECT_FALSE(ElfImage::parse(b.build()).is_error());
    b.header.e_entry = 0x3fffff;
    EXPECT_EQ(parse_error(b), ElfError::BadEntry);
}

TEST(ElfReject, BadInterpreter) {
    ElfBuilder b;
    b.interp("/lib/ld.so");  // no NUL
    EXPECT_EQ(parse_error(b), ElfError::BadInterpreter);
    b = ElfBuilder();
    b.interp(std::string(1, '\0'));  // shorter than Linux's minimum of 2
    EXPECT_EQ(parse_error(b), ElfError::BadInterpreter);
    b = ElfBuilder();
    b.interp(std::string(2, '\0'));  // empty path
    EXPECT_EQ(parse_error(b), ElfError::BadInterpreter);
    b = ElfBuilder();
    b.file_size = 0x4000;
    b.interp(std::string(4096, 'a') + '\0');  // longer than PATH_MAX
    EXPECT_EQ(parse_error(b), ElfError::BadInterpreter);
    b = ElfBuilder();
    b.interp(std::string("/ld.so") + '\0');
    b.phdrs[0].p_offset = b.file_size - 3;  // runs past the end
    EXPECT_EQ(parse_error(b), ElfError::Truncated);
    b.phdrs[0].p_offset = UINT64_MAX - 2;  // wraps
    EXPECT_EQ(parse_error(b), ElfError::BadInterpreter);
}

TEST(ElfReject, DuplicateSingletonSegments) {
    for (uint32_t type : {PT_INTERP, PT_DYNAMIC, PT_PHDR, PT_TLS, PT_GNU_STACK}) {
        ElfBuilder b;
        b.blobs.emplace_back(0x2000, std::string("/ld.so") + '\0');
        auto one = ElfBuilder::segment(type, 0x2000, 0x402000, 7);
        b.phdrs.push_back(one);
        EXPECT_FALSE(ElfImage::parse(b.build()).is_error()) << "type " << type;
        b.phdrs.push_back(one);
        EXPECT_EQ(parse_error(b), ElfError::BadProgramHeaders) << "type " << type;
    }
}

TEST(ElfReject, BadTlsAndDynamicSegments) {
    ElfBuilder b;
    b.phdrs.push_back(ElfBuilder::segment(PT_TLS, 0x1400, 0x401400, 0x20, 0x10));
    EXPECT_EQ(parse_error(b), ElfError::BadSegment);  // filesz > memsz
    b.phdrs.back() = ElfBuilder::segment(PT_TLS, 0x2ff0, 0x401400, 0x20);
    EXPECT_EQ(parse_error(b), ElfError::Truncated);
    b.phdrs.back() = ElfBuilder::segment(PT_TLS, 0x1400, 0x401400, 0x20);
    b.phdrs.back().p_align = 24;
    EXPECT_EQ(parse_error(b), ElfError::BadSegment);
    b.phdrs.back() = ElfBuilder::segment(PT_DYNAMIC, 0x1100, UINT64_MAX - 0x10, 0x100);
    EXPECT_EQ(parse_error(b), ElfError::BadSegment);
}

TEST(ElfReject, EveryPrefixOfAValidImageIsRefusedSafely) {
    // Each prefix is its own exactly-sized allocation, so ASan sees any read past the end.
    ElfBuilder b;
    b.interp(std::string("/lib64/ld-linux-x86-64.so.2") + '\0');
    auto full = b.build();
    const size_t needed = 0x2000 + 28;  // the end of PT_INTERP, the furthest thing referenced
    std::vector<size_t> lengths = {needed - 1, needed, full.size()};
    for (size_t n = 0; n < full.size(); n += (n < 0x200 ? 1 : 0x7f)) lengths.push_back(n);
    for (size_t n : lengths) {
        std::vector<std::byte> prefix(full.begin(), full.begin() + n);
        auto result = ElfImage::parse(prefix);
        ASSERT_EQ(result.is_error(), n < needed) << "prefix " << n;
        if (result.is_error()) {
            EXPECT_EQ(result.error(), n < 4 ? ElfError::NotElf : ElfError::Truncated)
                << "prefix " << n;
        }
    }
}

TEST(ElfErrorText, DescriptionsAreDistinctSentences) {
    std::set<std::string> seen;
    for (int e = 0; e <= int(ElfError::BadSymbolTable); ++e) {
        std::string text = describe(ElfError(e));
        EXPECT_GT(text.size(), 10u);
        EXPECT_TRUE(seen.insert(text).second) << "duplicate description: " << text;
    }
    EXPECT_EQ(to_errno(ElfError::NotX86_64), lib::Errno::NoExec);
}

// ---- Symbol tables -------------------------------------------------------------------------

// Adds .symtab (or .dynsym) and its string table to an image: section 0 null, 1 strtab,
// 2 symtab. Symbols are laid out at 0x1800, names at 0x1c00.
struct SymbolSpec {
    std::string name;
    uint64_t value;
    uint64_t size;
    uint8_t type = STT_FUNC;
    uint16_t shndx = 1;
    uint8_t bind = STB_GLOBAL;
};

ElfBuilder with_symbols(const std::vector<SymbolSpec>& symbols, uint32_t table_type = SHT_SYMTAB) {
    ElfBuilder b;
    std::string strings(1, '\0');
    std::string entries(sizeof(Elf64_Sym), '\0');  // the null symbol
    for (const SymbolSpec& s : symbols) {
        Elf64_Sym sym{
            uint32_t(strings.size()), st_info(s.bind, s.type), 0, s.shndx, s.value, s.size};
        strings += s.name + '\0';
        entries.append(reinterpret_cast<const char*>(&sym), sizeof(sym));
    }
    b.blobs.emplace_back(0x1800, entries);
    b.blobs.emplace_back(0x1c00, strings);
    b.header.e_shoff = 0x2000;
    Elf64_Shdr strtab{};
    strtab.sh_type = SHT_STRTAB;
    strtab.sh_offset = 0x1c00;
    strtab.sh_size = strings.size();
    Elf64_Shdr symtab{};
    symtab.sh_type = table_type;
    symtab.sh_offset = 0x1800;
    symtab.sh_size = entries.size();
    symtab.sh_link = 1;
    symtab.sh_entsize = sizeof(Elf64_Sym);
    b.shdrs = {Elf64_Shdr{}, strtab, symtab};
    return b;
}

ElfError symbols_error(const ElfBuilder& builder) {
    auto result = SymbolTable::parse(builder.build());
    EXPECT_TRUE(result.is_error()) << "symbol table unexpectedly accepted";
    return result.is_error() ? result.error() : ElfError::NotElf;
}

SymbolTable symbols_ok(const std::vector<std::byte>& bytes) {
    auto result = SymbolTable::parse(bytes);
    EXPECT_FALSE(result.is_error()) << describe(result.error());
    return result.release_value();
}

std::string name_at(const SymbolTable& table, uint64_t address) {
    auto symbol = table.lookup(address);
    return symbol ? std::string(symbol->name) : "<none>";
}

TEST(SymbolTable, LooksUpSizedFunctions) {
    auto bytes = with_symbols({{"main", 0x401000, 0x40},
                               {"helper", 0x401040, 0x20},
                               {"data", 0x402000, 0x100, STT_OBJECT},
                               {"import", 0, 0, STT_FUNC, SHN_UNDEF}})
                     .build();
    SymbolTable table = symbols_ok(bytes);
    EXPECT_FALSE(table.is_dynamic());
    EXPECT_EQ(table.entry_count(), 5u);
    EXPECT_EQ(name_at(table, 0x401000), "main");
    EXPECT_EQ(name_at(table, 0x40103f), "main");
    EXPECT_EQ(name_at(table, 0x401040), "helper");
    EXPECT_EQ(name_at(table, 0x40105f), "helper");
    EXPECT_EQ(name_at(table, 0x401060), "<none>");  // past the last function
    EXPECT_EQ(name_at(table, 0x402010), "<none>");  // objects are not code
    EXPECT_EQ(name_at(table, 0x400fff), "<none>");
    EXPECT_EQ(name_at(table, 0), "<none>");  // undefined symbols never match
    auto main = table.lookup(0x401013);
    ASSERT_TRUE(main);
    EXPECT_EQ(main->start, 0x401000u);
    EXPECT_EQ(main->size, 0x40u);
    EXPECT_EQ(main->offset_of(0x401013), 0x13u);
    EXPECT_EQ(table.find("helper")->start, 0x401040u);
    EXPECT_FALSE(table.find("data"));
    EXPECT_FALSE(table.find("nope"));
    std::vector<std::string> names;
    table.for_each([&](const Symbol& s) { names.emplace_back(s.name); });
    EXPECT_EQ(names, (std::vector<std::string>{"main", "helper"}));
}

TEST(SymbolTable, InnermostAndUnsizedLabels) {
    auto bytes = with_symbols({{"outer", 0x1000, 0x100},
                               {"inner", 0x1010, 0x10},
                               {"_start", 0x2000, 0, STT_NOTYPE},
                               {"asm_loop", 0x2040, 0, STT_FUNC},
                               {"after", 0x3000, 0x10},
                               {"tail", 0x3100, 0, STT_NOTYPE},
                               {"sized_after_label", 0x3200, 0x10}})
                     .build();
    SymbolTable table = symbols_ok(bytes);
    EXPECT_EQ(name_at(table, 0x1015), "inner");
    EXPECT_EQ(name_at(table, 0x1020), "outer");
    EXPECT_EQ(name_at(table, 0x2000), "_start");
    EXPECT_EQ(name_at(table, 0x203f), "_start");
    EXPECT_EQ(name_at(table, 0x2fff), "asm_loop");  // nearest unsized label below
    EXPECT_EQ(name_at(table, 0x3008), "after");
    EXPECT_EQ(name_at(table, 0x3010), "<none>");  // past a sized function
    EXPECT_EQ(name_at(table, 0x3150), "tail");
    // A sized function after the label ends before the address: the label does not reach.
    EXPECT_EQ(name_at(table, 0x3300), "<none>");
}

TEST(SymbolTable, FallsBackToDynsym) {
    auto bytes = with_symbols({{"exported", 0x401000, 0x10}}, SHT_DYNSYM).build();
    SymbolTable table = symbols_ok(bytes);
    EXPECT_TRUE(table.is_dynamic());
    EXPECT_EQ(name_at(table, 0x401001), "exported");
}

TEST(SymbolTable, StrippedFileIsEmpty) {
    auto bytes = ElfBuilder().build();
    SymbolTable table = symbols_ok(bytes);
    EXPECT_TRUE(table.empty());
    EXPECT_FALSE(table.lookup(0x400100));
    // Sections but no symbol table: also empty.
    ElfBuilder b;
    b.header.e_shoff = 0x2000;
    b.shdrs = {Elf64_Shdr{}, Elf64_Shdr{}};
    auto sections_only = b.build();
    EXPECT_TRUE(symbols_ok(sections_only).empty());
}

TEST(SymbolTable, ExtendedSectionNumbering) {
    ElfBuilder b = with_symbols({{"f", 0x401000, 0x10}});
    b.auto_counts = false;
    b.header.e_shnum = 0;
    b.shdrs[0].sh_size = 3;  // gABI: the real count lives in section 0
    b.header.e_phnum = uint16_t(b.phdrs.size());
    auto bytes = b.build();
    EXPECT_EQ(name_at(symbols_ok(bytes), 0x401004), "f");
    b.shdrs[0].sh_size = uint64_t(1) << 60;  // count * 64 wraps
    EXPECT_EQ(symbols_error(b), ElfError::BadSectionHeaders);
    b.shdrs[0].sh_size = 1000;  // past the end of the file
    EXPECT_EQ(symbols_error(b), ElfError::Truncated);
}

TEST(SymbolTable, NamesNeverLeaveTheStringTable) {
    ElfBuilder b = with_symbols({{"abc", 0x401000, 0x10}, {"zzz", 0x401010, 0x10}});
    b.shdrs[1].sh_size = 4;  // "\0abc" without its NUL; "zzz" now lies outside the table
    auto bytes = b.build();
    SymbolTable table = symbols_ok(bytes);
    EXPECT_EQ(name_at(table, 0x401000), "abc");
    EXPECT_EQ(name_at(table, 0x401010), "<none>");
}

TEST(SymbolTable, RejectsMalformedTables) {
    ElfBuilder b = with_symbols({{"f", 0x401000, 0x10}});
    b.header.e_shentsize = 40;
    EXPECT_EQ(symbols_error(b), ElfError::BadSectionHeaders);

    b = with_symbols({{"f", 0x401000, 0x10}});
    b.header.e_shoff = UINT64_MAX - 0x10;
    EXPECT_EQ(symbols_error(b), ElfError::BadSectionHeaders);
    b.header.e_shoff = b.file_size - 0x40;
    EXPECT_EQ(symbols_error(b), ElfError::Truncated);

    b = with_symbols({{"f", 0x401000, 0x10}});
    b.shdrs[2].sh_entsize = 16;
    EXPECT_EQ(symbols_error(b), ElfError::BadSymbolTable);
    b.shdrs[2].sh_entsize = sizeof(Elf64_Sym);
    b.shdrs[2].sh_size += 1;  // not a whole number of entries
    EXPECT_EQ(symbols_error(b), ElfError::BadSymbolTable);

    b = with_symbols({{"f", 0x401000, 0x10}});
    b.shdrs[2].sh_link = 2;  // links to itself, not a string table
    EXPECT_EQ(symbols_error(b), ElfError::BadSymbolTable);
    b.shdrs[2].sh_link = 99;  // no such section
    EXPECT_EQ(symbols_error(b), ElfError::BadSymbolTable);

    b = with_symbols({{"f", 0x401000, 0x10}});
    b.shdrs[2].sh_offset = UINT64_MAX - 8;
    EXPECT_EQ(symbols_error(b), ElfError::BadSymbolTable);
    b.shdrs[2].sh_offset = b.file_size - 24;
    EXPECT_EQ(symbols_error(b), ElfError::Truncated);

    b = with_symbols({{"f", 0x401000, 0x10}});
    b.shdrs[1].sh_offset = b.file_size;
    EXPECT_EQ(symbols_error(b), ElfError::Truncated);

    b = with_symbols({{"f", 0x401000, 0x10}});
    b.header.e_ident[EI_CLASS] = ELFCLASS32;
    EXPECT_EQ(symbols_error(b), ElfError::Not64Bit);
}

// ---- ElfSymbolizer (lib/elf/symbolize.h) ----------------------------------------------------

std::string located(const ElfSymbolizer& s, uint64_t offset) {
    std::optional<FileLocation> out[1];
    s.locate({&offset, 1}, out);
    if (!out[0]) return "<outside>";
    if (!out[0]->symbol) return "<none>";
    char text[32];
    std::snprintf(text, sizeof(text), "+0x%llx",
                  (unsigned long long)out[0]->symbol->offset_of(out[0]->vaddr));
    return std::string(out[0]->symbol->name) + text;
}

ElfSymbolizer symbolizer_ok(const std::vector<std::byte>& bytes) {
    auto result = ElfSymbolizer::parse(bytes);
    EXPECT_FALSE(result.is_error()) << describe(result.error());
    return result.release_value();
}

TEST(ElfSymbolizer, FileOffsetsThroughLoadSegments) {
    // Text at file 0 -> 0x400000, data at file 0x1000 -> 0x401000 (0x800 bytes in the file).
    auto bytes = with_symbols({{"main", 0x400100, 0x40}, {"in_data", 0x401010, 0x10}}).build();
    ElfSymbolizer s = symbolizer_ok(bytes);
    EXPECT_EQ(s.vaddr_of(0x120), 0x400120u);
    EXPECT_EQ(s.vaddr_of(0x1010), 0x401010u);
    EXPECT_FALSE(s.vaddr_of(0x1800));  // past the data segment's p_filesz
    EXPECT_EQ(located(s, 0x120), "main+0x20");
    EXPECT_EQ(located(s, 0x101f), "in_data+0xf");
    EXPECT_EQ(located(s, 0x200), "<none>");
    EXPECT_EQ(located(s, 0x5000), "<outside>");
}

TEST(ElfSymbolizer, ManyOffsetsInOnePass) {
    auto bytes = with_symbols({{"a", 0x400100, 0x10}, {"b", 0x400110, 0x10}}).build();
    ElfSymbolizer s = symbolizer_ok(bytes);
    std::vector<uint64_t> offsets;
    for (size_t i = 0; i < SymbolTable::kMaxBatch + 5; ++i)
        offsets.push_back(i % 2 ? 0x115 : 0x105);
    offsets[3] = 0x9999;
    std::vector<std::optional<FileLocation>> out(offsets.size());
    s.locate(offsets, out);
    EXPECT_EQ(out[0]->symbol->name, "a");
    EXPECT_EQ(out[1]->symbol->name, "b");
    EXPECT_FALSE(out[3]);
    EXPECT_EQ(out[SymbolTable::kMaxBatch - 1]->symbol->name, "b");
    EXPECT_FALSE(out[SymbolTable::kMaxBatch]);  // past the batch: nothing, never garbage
}

TEST(ElfSymbolizer, SharedLibrariesAndStrippedFilesParse) {
    ElfBuilder lib = with_symbols({{"exported", 0x1100, 0x20}}, SHT_DYNSYM);
    lib.pie();
    lib.header.e_entry = 0;  // shared libraries often have none
    auto lib_bytes = lib.build();
    ElfSymbolizer s = symbolizer_ok(lib_bytes);
    EXPECT_EQ(located(s, 0x1105), "exported+0x5");
    auto stripped = ElfBuilder().build();
    EXPECT_EQ(located(symbolizer_ok(stripped), 0x100), "<none>");
}

TEST(ElfSymbolizer, RejectsHostileHeaders) {
    auto error = [](const ElfBuilder& b) {
        auto result = ElfSymbolizer::parse(b.build());
        return result.is_error() ? result.error() : ElfError::NotElf;
    };
    ElfBuilder b = with_symbols({{"f", 0x400100, 0x10}});
    b.header.e_phoff = UINT64_MAX - 8;  // offset + size wraps
    EXPECT_EQ(error(b), ElfError::BadProgramHeaders);
    b.header.e_phoff = b.file_size - 8;
    EXPECT_EQ(error(b), ElfError::Truncated);
    b = with_symbols({{"f", 0x400100, 0x10}});
    b.header.e_phentsize = 40;
    EXPECT_EQ(error(b), ElfError::BadProgramHeaders);
    b = with_symbols({{"f", 0x400100, 0x10}});
    b.auto_counts = false;
    b.header.e_phnum = kMaxProgramHeaders + 1;
    b.header.e_shnum = 3;
    EXPECT_EQ(error(b), ElfError::BadProgramHeaders);
    b.header.e_phnum = 0;
    EXPECT_EQ(error(b), ElfError::BadProgramHeaders);
    b = with_symbols({{"f", 0x400100, 0x10}});
    b.shdrs[2].sh_offset = UINT64_MAX - 8;  // the symbol table's own checks still apply
    EXPECT_EQ(error(b), ElfError::BadSymbolTable);

    // Segments whose numbers wrap translate nothing rather than something wrong.
    b = with_symbols({{"f", 0x400100, 0x10}});
    b.phdrs[0] = ElfBuilder::load(UINT64_MAX - 0x10, UINT64_MAX - 4, 0x100, 0x100, PF_R | PF_X);
    auto wrapping = b.build();
    ElfSymbolizer s = symbolizer_ok(wrapping);
    EXPECT_EQ(s.vaddr_of(UINT64_MAX - 0x10), UINT64_MAX - 4);
    EXPECT_FALSE(s.vaddr_of(UINT64_MAX - 1));  // vaddr would pass 2^64
    EXPECT_FALSE(s.vaddr_of(0x20));
}

// ---- Real binaries -------------------------------------------------------------------------

std::vector<std::byte> read_file(const char* path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> chars{std::istreambuf_iterator<char>(in), {}};
    std::vector<std::byte> bytes(chars.size());
    std::memcpy(bytes.data(), chars.data(), chars.size());
    return bytes;
}

// What the kernel told this process: /proc/self/auxv, pairs of 64-bit words.
std::map<uint64_t, uint64_t> own_auxv() {
    auto bytes = read_file("/proc/self/auxv");
    std::map<uint64_t, uint64_t> out;
    for (size_t at = 0; at + 16 <= bytes.size(); at += 16) {
        uint64_t pair[2];
        std::memcpy(pair, bytes.data() + at, 16);
        out[pair[0]] = pair[1];
    }
    return out;
}

}  // namespace

extern "C" __attribute__((noinline, used)) int phx_elf_test_marker(int x) {
    asm volatile("" ::: "memory");
    return x * 3 + 1;
}

namespace {

TEST(ElfRealBinary, ParsesThisTestBinaryLikeTheKernelDid) {
    auto bytes = read_file("/proc/self/exe");
    ASSERT_GT(bytes.size(), 4096u);
    ElfImage image = parse_ok(bytes);
    ASSERT_TRUE(image.interpreter());  // a dynamically linked (PIE) executable
    EXPECT_NE(image.interpreter()->find("ld-linux-x86-64.so"), std::string_view::npos);
    EXPECT_TRUE(image.is_dynamically_linked());
    EXPECT_TRUE(image.has_dynamic());
    EXPECT_FALSE(image.executable_stack());

    // Linux's loader read the same file: its auxv must agree with what we computed.
    auto auxv = own_auxv();
    ASSERT_TRUE(image.phdr_vaddr());
    uint64_t base = image.is_pie() ? auxv[AT_PHDR] - *image.phdr_vaddr() : 0;
    EXPECT_EQ(base % kPageSize, 0u);
    EXPECT_EQ(auxv[AT_PHDR], base + *image.phdr_vaddr());
    EXPECT_EQ(auxv[AT_PHNUM], image.phnum());
    EXPECT_EQ(auxv[AT_PHENT], image.phentsize());
    EXPECT_EQ(auxv[AT_ENTRY], base + image.entry());

    // Symbolize a function of this binary at its run-time address.
    auto symbols_result = SymbolTable::parse(bytes);
    ASSERT_FALSE(symbols_result.is_error()) << describe(symbols_result.error());
    const SymbolTable& symbols = symbols_result.value();
    EXPECT_FALSE(symbols.is_dynamic());
    Dl_info info{};
    auto runtime = reinterpret_cast<uint64_t>(&phx_elf_test_marker);
    ASSERT_NE(dladdr(reinterpret_cast<void*>(&phx_elf_test_marker), &info), 0);
    if (image.is_pie()) {
        EXPECT_EQ(reinterpret_cast<uint64_t>(info.dli_fbase), base);
    }
    auto found = symbols.find("phx_elf_test_marker");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->start, runtime - base);
    auto hit = symbols.lookup(runtime - base + 2);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->name, "phx_elf_test_marker");
    EXPECT_EQ(hit->offset_of(runtime - base + 2), 2u);
    EXPECT_EQ(phx_elf_test_marker(1), 4);
}

TEST(ElfRealBinary, ParsesBinTrueIfPresent) {
    auto bytes = read_file("/bin/true");
    if (bytes.empty()) GTEST_SKIP() << "/bin/true not present";
    auto image = ElfImage::parse(bytes);
    ASSERT_FALSE(image.is_error()) << describe(image.error());
    EXPECT_GE(image.value().load_bounds().size(), kPageSize);
    EXPECT_EQ(image.value().is_dynamically_linked(), image.value().interpreter().has_value());
    auto symbols = SymbolTable::parse(bytes);
    ASSERT_FALSE(symbols.is_error()) << describe(symbols.error());
    // Every symbol it reports must be findable again by address.
    symbols.value().for_each([&](const Symbol& s) {
        if (s.size) {
            EXPECT_TRUE(symbols.value().lookup(s.start)) << s.name;
        }
    });
}

}  // namespace
