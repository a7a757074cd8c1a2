// KernelImage::parse over tiny ELF32 and ELF64 files built in the test: the PVH entry from the
// Xen PHYS32_ENTRY note, the PT_LOAD segments and their bounds, and a clear usage error for
// every way an untrusted kernel file can be wrong.
#include "vmm/boot/kernel_image.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "tests/vmm/elf_builder.h"

namespace {

using phx_test::build_elf;
using phx_test::ElfSpec;
using phx_test::simple_kernel;
using vmm::ErrorKind;
using vmm::KernelImage;

vmm::Expected<KernelImage> parse(const std::vector<std::byte>& file) {
    return KernelImage::parse(file, "k.elf");
}

// The parse fails with a usage error whose text is exactly "k.elf: <why>".
void expect_usage_error(const std::vector<std::byte>& file, const std::string& why) {
    auto image = parse(file);
    ASSERT_TRUE(image.is_error()) << why;
    EXPECT_EQ(image.error().kind, ErrorKind::Usage);
    EXPECT_EQ(image.error().message(), "k.elf: " + why);
}

constexpr const char* kTruncated = "truncated or malformed ELF program headers";
constexpr const char* kOutside = "a PT_LOAD segment lies outside the file or wraps";
constexpr const char* kNoPvh = "not a PVH kernel (no Xen PHYS32_ENTRY ELF note)";

TEST(KernelImage, Elf64EntryAndSegment) {
    auto image = parse(build_elf(simple_kernel(true, 0x100010, 0x40, 0x1000)));
    ASSERT_FALSE(image.is_error()) << image.error().message();
    EXPECT_EQ(image.value().entry(), 0x100010u);
    ASSERT_EQ(image.value().segments().size(), 1u);
    const vmm::KernelSegment& segment = image.value().segments()[0];
    EXPECT_EQ(segment.paddr, 0x100000u);
    EXPECT_EQ(segment.memsz, 0x1000u);
    EXPECT_EQ(segment.bytes, phx_test::pattern(0x40, 0x11));
    EXPECT_EQ(image.value().lowest_address(), 0x100000u);
    EXPECT_EQ(image.value().end_address(), 0x101000u);
}

TEST(KernelImage, Elf32EntryAndSegment) {
    auto image = parse(build_elf(simple_kernel(false, 0x10000c, 0x20, 0x30)));
    ASSERT_FALSE(image.is_error()) << image.error().message();
    EXPECT_EQ(image.value().entry(), 0x10000cu);
    ASSERT_EQ(image.value().segments().size(), 1u);
    EXPECT_EQ(image.value().segments()[0].paddr, 0x100000u);
    EXPECT_EQ(image.value().segments()[0].memsz, 0x30u);
    EXPECT_EQ(image.value().segments()[0].bytes, phx_test::pattern(0x20, 0x11));
    EXPECT_EQ(image.value().end_address(), 0x100030u);
}

TEST(KernelImage, BoundsSpanAllSegmentsAndSkipEmptyOnes) {
    ElfSpec spec = simple_kernel();
    spec.loads = {{0x200000, phx_test::pattern(0x10, 1), 0x2000},
                  {0x100000, phx_test::pattern(0x10, 2), 0x10},
                  {0x900000, {}, 0}};  // memsz 0: nothing to load
    auto image = parse(build_elf(spec));
    ASSERT_FALSE(image.is_error()) << image.error().message();
    ASSERT_EQ(image.value().segments().size(), 2u);
    EXPECT_EQ(image.value().segments()[0].paddr, 0x200000u);
    EXPECT_EQ(image.value().segments()[1].paddr, 0x100000u);
    EXPECT_EQ(image.value().lowest_address(), 0x100000u);
    EXPECT_EQ(image.value().end_address(), 0x202000u);
}

TEST(KernelImage, BssOnlySegmentHasNoFileBytes) {
    ElfSpec spec = simple_kernel();
    spec.loads.push_back({0x300000, {}, 0x5000});
    auto image = parse(build_elf(spec));
    ASSERT_FALSE(image.is_error()) << image.error().message();
    ASSERT_EQ(image.value().segments().size(), 2u);
    EXPECT_TRUE(image.value().segments()[1].bytes.empty());
    EXPECT_EQ(image.value().segments()[1].memsz, 0x5000u);
    EXPECT_EQ(image.value().end_address(), 0x305000u);
}

TEST(KernelImage, FindsTheEntryNoteAmongOthers) {
    ElfSpec spec = simple_kernel();
    spec.notes = phx_test::elf_note("GNU", 3, phx_test::pattern(20, 9));       // a build id
    spec.notes = phx_test::concat(spec.notes, phx_test::xen_note(6, 0x1234));  // another Xen note
    spec.notes =
        phx_test::concat(spec.notes, phx_test::elf_note("Xe", 18, phx_test::pattern(4, 0)));
    spec.notes = phx_test::concat(spec.notes, phx_test::pvh_note(0x100abc));
    auto image = parse(build_elf(spec));
    ASSERT_FALSE(image.is_error()) << image.error().message();
    EXPECT_EQ(image.value().entry(), 0x100abcu);
}

TEST(KernelImage, EightByteEntryDescriptor) {
    ElfSpec spec = simple_kernel();
    spec.notes = phx_test::xen_note(phx_test::kXenPhys32Entry, 0x1000f0, 8);
    auto image = parse(build_elf(spec));
    ASSERT_FALSE(image.is_error()) << image.error().message();
    EXPECT_EQ(image.value().entry(), 0x1000f0u);
}

TEST(KernelImage, EntryAbove4GiBIsNotAPhys32Entry) {
    ElfSpec spec = simple_kernel();
    spec.notes = phx_test::xen_note(phx_test::kXenPhys32Entry, 0x1'0010'0000, 8);
    expect_usage_error(build_elf(spec), kNoPvh);
}

TEST(KernelImage, OddSizedEntryDescriptorIsIgnored) {
    ElfSpec spec = simple_kernel();
    spec.notes = phx_test::xen_note(phx_test::kXenPhys32Entry, 0x100000, 2);
    expect_usage_error(build_elf(spec), kNoPvh);
}

TEST(KernelImage, NoPvhNote) {
    ElfSpec spec = simple_kernel();
    spec.notes = {};
    expect_usage_error(build_elf(spec), kNoPvh);
    spec.notes = phx_test::xen_note(17, 0x100000);  // a Xen note, another type
    expect_usage_error(build_elf(spec), kNoPvh);
    spec.notes = phx_test::elf_note("XEN", phx_test::kXenPhys32Entry, phx_test::pattern(4, 0));
    expect_usage_error(build_elf(spec), kNoPvh);
}

TEST(KernelImage, NoteRunningPastItsSegmentIsNotTrusted) {
    ElfSpec spec = simple_kernel();
    spec.notes = phx_test::pvh_note(0x100000);
    uint32_t huge_descsz = 0x1000;
    std::memcpy(spec.notes.data() + 4, &huge_descsz, 4);
    expect_usage_error(build_elf(spec), kNoPvh);
}

TEST(KernelImage, NoteSegmentOutsideTheFile) {
    auto file = build_elf(simple_kernel());
    // Phdr 0 is the PT_NOTE; point it past the end of the file.
    phx_test::edit_phdr<Elf64_Phdr>(file, 0, sizeof(Elf64_Ehdr), [&](Elf64_Phdr& ph) {
        ASSERT_EQ(ph.p_type, uint32_t(PT_NOTE));
        ph.p_offset = file.size() - 4;
    });
    expect_usage_error(file, kNoPvh);
}

TEST(KernelImage, NoLoadableSegments) {
    ElfSpec spec = simple_kernel();
    spec.loads = {};
    expect_usage_error(build_elf(spec), "no loadable segments");
    spec.loads = {{0x100000, {}, 0}};
    expect_usage_error(build_elf(spec), "no loadable segments");
}

TEST(KernelImage, NotAnElf) {
    expect_usage_error({}, "not an ELF file");
    expect_usage_error(phx_test::pattern(8, 0x7f), "not an ELF file");  // shorter than e_ident
    auto file = build_elf(simple_kernel());
    file[3] = std::byte{'G'};
    expect_usage_error(file, "not an ELF file");
    std::vector<std::byte> script(64, std::byte{' '});
    std::memcpy(script.data(), "#!/bin/sh", 9);
    expect_usage_error(script, "not an ELF file");
}

TEST(KernelImage, BigEndianAndUnknownClass) {
    auto file = build_elf(simple_kernel());
    file[EI_DATA] = std::byte{ELFDATA2MSB};
    expect_usage_error(file, "not a little-endian ELF");
    file = build_elf(simple_kernel());
    file[EI_CLASS] = std::byte{ELFCLASSNONE};
    expect_usage_error(file, "unknown ELF class");
    file[EI_CLASS] = std::byte{3};
    expect_usage_error(file, "unknown ELF class");
}

TEST(KernelImage, WrongMachine) {
    ElfSpec spec = simple_kernel();
    spec.machine = EM_AARCH64;
    expect_usage_error(build_elf(spec), "not an x86 kernel ELF");
    spec = simple_kernel(false);
    spec.machine = EM_ARM;
    expect_usage_error(build_elf(spec), "not an x86 kernel ELF");
}

TEST(KernelImage, TruncatedHeaders) {
    auto file = build_elf(simple_kernel());
    // Cut inside the ELF header, then inside the second program header.
    expect_usage_error(std::vector<std::byte>(file.begin(), file.begin() + 40), kTruncated);
    size_t cut = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + 10;
    expect_usage_error(std::vector<std::byte>(file.begin(), file.begin() + ptrdiff_t(cut)),
                       kTruncated);
    // An ELF32 header is 52 bytes: 51 is one short.
    auto file32 = build_elf(simple_kernel(false));
    expect_usage_error(std::vector<std::byte>(file32.begin(), file32.begin() + 51), kTruncated);
}

TEST(KernelImage, MalformedProgramHeaderTable) {
    auto base = build_elf(simple_kernel());
    auto file = base;
    phx_test::edit_ehdr<Elf64_Ehdr>(file, [](Elf64_Ehdr& eh) { eh.e_phnum = 0; });
    expect_usage_error(file, kTruncated);
    file = base;
    phx_test::edit_ehdr<Elf64_Ehdr>(file, [](Elf64_Ehdr& eh) { eh.e_phnum = 257; });
    expect_usage_error(file, kTruncated);
    file = base;
    phx_test::edit_ehdr<Elf64_Ehdr>(file, [](Elf64_Ehdr& eh) { eh.e_phentsize = 32; });
    expect_usage_error(file, kTruncated);
    file = base;
    phx_test::edit_ehdr<Elf64_Ehdr>(file, [](Elf64_Ehdr& eh) { eh.e_phoff = UINT64_MAX - 8; });
    expect_usage_error(file, kTruncated);
    // The ELF64 class byte on an ELF32 file: e_phentsize is then read from the first program
    // header's p_type (PT_NOTE, 4: its high half is 0).
    file = build_elf(simple_kernel(false));
    file[EI_CLASS] = std::byte{ELFCLASS64};
    expect_usage_error(file, kTruncated);
}

TEST(KernelImage, LoadSegmentOutsideTheFileOrWrapping) {
    auto base = build_elf(simple_kernel());
    auto edit_load = [&](auto edit) {
        auto file = base;
        phx_test::edit_phdr<Elf64_Phdr>(file, 1, sizeof(Elf64_Ehdr), edit);
        return file;
    };
    expect_usage_error(edit_load([](Elf64_Phdr& ph) { ph.p_filesz = ph.p_memsz + 1; }), kOutside);
    expect_usage_error(edit_load([&](Elf64_Phdr& ph) { ph.p_offset = base.size() + 1; }), kOutside);
    expect_usage_error(edit_load([&](Elf64_Phdr& ph) { ph.p_offset = base.size() - 0x20; }),
                       kOutside);  // the last 0x20 of its 0x40 bytes missing
    expect_usage_error(edit_load([](Elf64_Phdr& ph) { ph.p_offset = UINT64_MAX - 0x10; }),
                       kOutside);
    expect_usage_error(edit_load([](Elf64_Phdr& ph) { ph.p_paddr = UINT64_MAX - 0x10; }), kOutside);
    // Ending exactly at 2^64 - 1 does not wrap.
    auto ok = parse(edit_load([](Elf64_Phdr& ph) { ph.p_paddr = UINT64_MAX - ph.p_memsz; }));
    ASSERT_FALSE(ok.is_error()) << ok.error().message();
    EXPECT_EQ(ok.value().end_address(), UINT64_MAX);
}

TEST(KernelImage, TruncatedSegmentData) {
    auto file = build_elf(simple_kernel());
    file.pop_back();  // the PT_LOAD's bytes come last
    expect_usage_error(file, kOutside);
}

TEST(KernelImage, ErrorNamesTheFile) {
    auto image = KernelImage::parse({}, "/boot/my-kernel");
    ASSERT_TRUE(image.is_error());
    EXPECT_EQ(image.error().message(), "/boot/my-kernel: not an ELF file");
}

TEST(KernelImage, LoadReadsTheFile) {
    std::string path = ::testing::TempDir() + "kernel_image_test." + std::to_string(getpid());
    auto bytes = build_elf(simple_kernel(true, 0x100020));
    {
        std::ofstream out(path, std::ios::binary);
        out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    }
    auto image = KernelImage::load(path);
    std::remove(path.c_str());
    ASSERT_FALSE(image.is_error()) << image.error().message();
    EXPECT_EQ(image.value().entry(), 0x100020u);
    EXPECT_EQ(image.value().segments().size(), 1u);
}

TEST(KernelImage, LoadOfAMissingFile) {
    auto image = KernelImage::load("/nonexistent/phoenix.elf");
    ASSERT_TRUE(image.is_error());
    EXPECT_EQ(image.error().kind, ErrorKind::Usage);
    EXPECT_EQ(image.error().message(),
              "cannot read the kernel /nonexistent/phoenix.elf: No such file or directory");
}

}  // namespace

namespace {

std::vector<std::byte> reloc_note(std::vector<uint32_t> words) {
    std::vector<std::byte> desc(words.size() * 4);
    if (!words.empty()) std::memcpy(desc.data(), words.data(), desc.size());
    return phx_test::elf_note("Xen", 19, desc);
}

}  // namespace

TEST(KernelImage, NoRelocationNoteMeansFixedAddress) {
    auto image = parse(build_elf(simple_kernel()));
    ASSERT_FALSE(image.is_error()) << image.error().message();
    EXPECT_FALSE(image.value().relocation());
}

TEST(KernelImage, RelocationNoteFields) {
    ElfSpec spec = simple_kernel();
    spec.notes = phx_test::concat(spec.notes, reloc_note({0x200000, 0x200000, 0x3fffffff}));
    auto image = parse(build_elf(spec));
    ASSERT_FALSE(image.is_error()) << image.error().message();
    ASSERT_TRUE(image.value().relocation());
    EXPECT_EQ(image.value().relocation()->align, 0x200000u);
    EXPECT_EQ(image.value().relocation()->min, 0x200000u);
    EXPECT_EQ(image.value().relocation()->max, 0x3fffffffu);
}

// Xen's defaults for the fields a short descriptor leaves out.
TEST(KernelImage, RelocationNoteDefaults) {
    ElfSpec spec = simple_kernel();
    spec.notes = phx_test::concat(spec.notes, reloc_note({0x400000}));
    auto image = parse(build_elf(spec));
    ASSERT_TRUE(image.value().relocation());
    EXPECT_EQ(image.value().relocation()->align, 0x400000u);
    EXPECT_EQ(image.value().relocation()->min, 0u);
    EXPECT_EQ(image.value().relocation()->max, 0xffffffffu);
    spec.notes = phx_test::concat(simple_kernel().notes, reloc_note({}));
    image = parse(build_elf(spec));
    ASSERT_TRUE(image.value().relocation());
    EXPECT_EQ(image.value().relocation()->align, 0x200000u);
}

TEST(KernelImage, NonsensicalRelocationNoteIsIgnored) {
    for (auto words : {std::vector<uint32_t>{0x1000 + 1}, {0x800}, {0x200000, 0x5000, 0x4000}}) {
        ElfSpec spec = simple_kernel();
        spec.notes = phx_test::concat(spec.notes, reloc_note(words));
        auto image = parse(build_elf(spec));
        ASSERT_FALSE(image.is_error()) << image.error().message();
        EXPECT_FALSE(image.value().relocation()) << words[0];
    }
}
