// write_pvh_boot into a GuestMemory backed by std::vector: start_info, the module list, the
// memory map and the command line land where docs/boot-protocol.md says, modules go
// page-aligned after the kernel, and whatever does not fit is a usage error. Plus ram_layout.
#include "vmm/boot/pvh_boot.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "lib/pvh/start_info.h"
#include "tests/vmm/elf_builder.h"

namespace {

using lib::pvh::MemmapEntry;
using lib::pvh::ModlistEntry;
using lib::pvh::StartInfo;
using phx_test::ElfSpec;
using phx_test::pattern;
using vmm::BootPlan;
using vmm::KernelImage;

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kGiB = 1024 * kMiB;

KernelImage kernel_from(const ElfSpec& spec) {
    auto image = KernelImage::parse(phx_test::build_elf(spec), "test.elf");
    if (image.is_error()) {
        ADD_FAILURE() << image.error().message();
        return {};
    }
    return image.release_value();
}

// A kernel of one PT_LOAD at paddr: filesz pattern bytes, memsz in memory.
KernelImage kernel_at(uint64_t paddr, uint64_t filesz, uint64_t memsz) {
    ElfSpec spec = phx_test::simple_kernel();
    spec.loads = {{paddr, pattern(filesz, 0x11), memsz}};
    return kernel_from(spec);
}

class PvhBoot : public ::testing::Test {
protected:
    // 2 MiB of RAM at 0, filled with a marker so that every byte written is visible.
    std::vector<std::byte> ram = std::vector<std::byte>(2 * kMiB, std::byte{0xaa});
    vmm::GuestMemory memory{{{0, ram.size(), ram.data()}}};

    template <typename T>
    T get(uint64_t gpa) {
        auto value = memory.read_obj<T>(gpa);
        EXPECT_FALSE(value.is_error()) << std::hex << gpa;
        return value.is_error() ? T{} : value.value();
    }
    std::vector<std::byte> bytes(uint64_t gpa, size_t size) {
        return {ram.begin() + ptrdiff_t(gpa), ram.begin() + ptrdiff_t(gpa + size)};
    }
    std::string cmdline_at(uint64_t gpa) {
        std::string out;
        while (gpa < ram.size() && ram[gpa] != std::byte{0}) out.push_back(char(ram[gpa++]));
        return out;
    }
};

void expect_memmap(const MemmapEntry& e, uint64_t addr, uint64_t size, uint32_t type) {
    EXPECT_EQ(e.addr, addr);
    EXPECT_EQ(e.size, size);
    EXPECT_EQ(e.type, type);
    EXPECT_EQ(e.reserved, 0u);
}

TEST_F(PvhBoot, StartInfoModulesMemmapAndCommandLine) {
    KernelImage kernel = kernel_at(0x100000, 0x40, 0x3000);
    auto manifest = pattern(100, 0x21), second = pattern(0x1800, 0x31);
    BootPlan plan{"console=ttyS0 phx.ram=zeroed", {manifest, second}};
    auto result = vmm::write_pvh_boot(memory, kernel, plan);
    ASSERT_FALSE(result.is_error()) << result.error().message();
    EXPECT_EQ(result.value(), 0x6000u);

    auto info = get<StartInfo>(0x6000);
    EXPECT_EQ(info.magic, 0x336ec578u);
    EXPECT_EQ(info.version, 1u);
    EXPECT_EQ(info.flags, 0u);
    EXPECT_EQ(info.nr_modules, 2u);
    EXPECT_EQ(info.modlist_paddr, 0x6100u);
    EXPECT_EQ(info.cmdline_paddr, 0x7000u);
    EXPECT_EQ(info.rsdp_paddr, 0u);
    EXPECT_EQ(info.memmap_paddr, 0x6200u);
    EXPECT_EQ(info.memmap_entries, 3u);
    EXPECT_EQ(info.reserved, 0u);

    // Modules page-aligned after the kernel's end (0x103000), each starting a fresh page.
    auto m0 = get<ModlistEntry>(0x6100), m1 = get<ModlistEntry>(0x6100 + 32);
    EXPECT_EQ(m0.paddr, 0x103000u);
    EXPECT_EQ(m0.size, 100u);
    EXPECT_EQ(m0.cmdline_paddr, 0u);
    EXPECT_EQ(m0.reserved, 0u);
    EXPECT_EQ(m1.paddr, 0x104000u);
    EXPECT_EQ(m1.size, 0x1800u);
    EXPECT_TRUE(bytes(0x103000, 100) == manifest);
    EXPECT_TRUE(bytes(0x104000, 0x1800) == second);
    EXPECT_EQ(ram[0x6100 + 64], std::byte{0xaa}) << "only two modlist entries are written";

    // [0, 0xa0000) RAM, the legacy hole reserved, [1 MiB, 2 MiB) RAM.
    expect_memmap(get<MemmapEntry>(0x6200), 0, 0xa0000, lib::pvh::kMemmapRam);
    expect_memmap(get<MemmapEntry>(0x6200 + 24), 0xa0000, 0x60000, lib::pvh::kMemmapReserved);
    expect_memmap(get<MemmapEntry>(0x6200 + 48), 0x100000, 0x100000, lib::pvh::kMemmapRam);

    EXPECT_EQ(cmdline_at(0x7000), "console=ttyS0 phx.ram=zeroed");
    EXPECT_EQ(ram[0x7000 + plan.cmdline.size()], std::byte{0});

    EXPECT_EQ(bytes(0x100000, 0x40), pattern(0x40, 0x11));
}

TEST_F(PvhBoot, WritesOnlyTheFileBytesOfASegment) {
    // A real VM's RAM is fresh zero pages (phx.ram=zeroed): the bss is not written.
    KernelImage kernel = kernel_at(0x100000, 0x40, 0x3000);
    ASSERT_FALSE(vmm::write_pvh_boot(memory, kernel, {}).is_error());
    EXPECT_EQ(ram[0x100000 + 0x3f], std::byte(uint8_t(0x11 + 0x3f * 7)));
    EXPECT_EQ(ram[0x100000 + 0x40], std::byte{0xaa});
}

TEST_F(PvhBoot, ModulesArePageAligned) {
    KernelImage kernel = kernel_at(0x100000, 0x10, 0x1001);  // ends at 0x101001
    auto one = pattern(1, 1), page = pattern(0x1000, 2), empty = std::vector<std::byte>{};
    BootPlan plan{"", {one, one, page, empty, one}};
    ASSERT_FALSE(vmm::write_pvh_boot(memory, kernel, plan).is_error());
    uint64_t expected[] = {0x102000, 0x103000, 0x104000, 0x105000, 0x105000};
    uint64_t sizes[] = {1, 1, 0x1000, 0, 1};
    for (size_t i = 0; i < 5; ++i) {
        auto entry = get<ModlistEntry>(0x6100 + 32 * i);
        EXPECT_EQ(entry.paddr, expected[i]) << i;
        EXPECT_EQ(entry.size, sizes[i]) << i;
        EXPECT_EQ(entry.paddr % 4096, 0u) << i;
    }
    EXPECT_EQ(get<StartInfo>(0x6000).nr_modules, 5u);
}

TEST_F(PvhBoot, NoModulesAndAnEmptyCommandLine) {
    KernelImage kernel = kernel_at(0x100000, 0x10, 0x10);
    ASSERT_FALSE(vmm::write_pvh_boot(memory, kernel, {}).is_error());
    auto info = get<StartInfo>(0x6000);
    EXPECT_EQ(info.nr_modules, 0u);
    EXPECT_EQ(info.modlist_paddr, 0u);
    EXPECT_EQ(info.cmdline_paddr, 0x7000u);
    EXPECT_EQ(ram[0x7000], std::byte{0});
    EXPECT_EQ(ram[0x6100], std::byte{0xaa}) << "no module list written";
}

TEST_F(PvhBoot, CommandLineOf4095BytesFits) {
    KernelImage kernel = kernel_at(0x100000, 0x10, 0x10);
    BootPlan plan{std::string(4095, 'c'), {}};
    ASSERT_FALSE(vmm::write_pvh_boot(memory, kernel, plan).is_error());
    EXPECT_EQ(cmdline_at(0x7000), plan.cmdline);
    EXPECT_EQ(ram[0x7fff], std::byte{0});
    EXPECT_EQ(ram[0x8000], std::byte{0xaa});
}

TEST_F(PvhBoot, CommandLineOf4096BytesIsRefused) {
    KernelImage kernel = kernel_at(0x100000, 0x10, 0x10);
    auto result = vmm::write_pvh_boot(memory, kernel, {std::string(4096, 'c'), {}});
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().kind, vmm::ErrorKind::Usage);
    EXPECT_EQ(result.error().message(), "the kernel command line is longer than 4095 bytes");
    EXPECT_EQ(ram[0x7000], std::byte{0xaa});
}

TEST_F(PvhBoot, EightModulesFitNineDoNot) {
    KernelImage kernel = kernel_at(0x100000, 0x10, 0x10);
    auto module = pattern(16, 5);
    BootPlan plan{"", std::vector<std::span<const std::byte>>(8, module)};
    ASSERT_FALSE(vmm::write_pvh_boot(memory, kernel, plan).is_error());
    EXPECT_EQ(get<StartInfo>(0x6000).nr_modules, 8u);
    EXPECT_EQ(get<ModlistEntry>(0x6100 + 32 * 7).paddr, 0x108000u);
    plan.modules.push_back(module);
    auto result = vmm::write_pvh_boot(memory, kernel, plan);
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().kind, vmm::ErrorKind::Usage);
    EXPECT_EQ(result.error().message(), "too many boot modules");
}

TEST_F(PvhBoot, ModuleEndingAtTheLastByteOfRamFits) {
    KernelImage kernel = kernel_at(0x100000, 0x10, 0x1000);  // modules from 0x101000
    auto module = pattern(0x200000 - 0x101000, 3);
    auto result = vmm::write_pvh_boot(memory, kernel, {"", {module}});
    ASSERT_FALSE(result.is_error()) << result.error().message();
    EXPECT_EQ(ram.back(), module.back());
}

TEST_F(PvhBoot, ModuleOneBytePastRamIsRefused) {
    KernelImage kernel = kernel_at(0x100000, 0x10, 0x1000);
    auto small = pattern(0x10, 1), big = pattern(0x200000 - 0x102000 + 1, 3);
    auto result = vmm::write_pvh_boot(memory, kernel, {"", {small, big}});
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().kind, vmm::ErrorKind::Usage);
    EXPECT_EQ(result.error().message(), "boot module 1 (1040385 bytes) does not fit in guest RAM");
}

TEST_F(PvhBoot, KernelOutsideRamIsRefused) {
    auto result = vmm::write_pvh_boot(memory, kernel_at(0x1ff000, 0x10, 0x2000), {});
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().kind, vmm::ErrorKind::Usage);
    EXPECT_EQ(result.error().message(),
              "the kernel's segment at 0x1ff000 (8192 bytes) does not fit in guest RAM above the "
              "boot data");
    EXPECT_TRUE(vmm::write_pvh_boot(memory, kernel_at(0x4000'0000, 0x10, 0x10), {}).is_error());
    EXPECT_FALSE(vmm::write_pvh_boot(memory, kernel_at(0x1ff000, 0x10, 0x1000), {}).is_error());
}

TEST_F(PvhBoot, KernelOverTheBootDataIsRefused) {
    // The boot data occupies [0x6000, 0x8000).
    auto over_cmdline = vmm::write_pvh_boot(memory, kernel_at(0x7ff0, 0x10, 0x20), {});
    ASSERT_TRUE(over_cmdline.is_error());
    EXPECT_EQ(over_cmdline.error().message(),
              "the kernel's segment at 0x7ff0 (32 bytes) does not fit in guest RAM above the "
              "boot data");
    EXPECT_TRUE(vmm::write_pvh_boot(memory, kernel_at(0x5000, 0x10, 0x1001), {}).is_error());
    EXPECT_TRUE(vmm::write_pvh_boot(memory, kernel_at(0x0, 0x10, 0x100000), {}).is_error());
    EXPECT_FALSE(vmm::write_pvh_boot(memory, kernel_at(0x5000, 0x10, 0x1000), {}).is_error());
    EXPECT_FALSE(vmm::write_pvh_boot(memory, kernel_at(0x8000, 0x10, 0x10), {}).is_error());
}

// BUG (vmm/boot/pvh_boot.cc, write_pvh_boot): modules are placed after the kernel's end without
// checking the boot data, so with a kernel linked below 0x6000 the first module is written over
// [0x6000, 0x8000) and then start_info, the module list, the memory map and the command line
// overwrite it: the guest gets a corrupt manifest and no error. Correct behaviour: refuse (or
// place the module elsewhere); either way a module must never share bytes with the boot data.
TEST_F(PvhBoot, ModuleNeverOverlapsTheBootData) {
    KernelImage kernel = kernel_at(0x1000, 0x10, 0x1000);  // ends at 0x2000, below the boot data
    auto manifest = pattern(0x8000, 0x41);
    auto result = vmm::write_pvh_boot(memory, kernel, {"console", {manifest}});
    if (result.is_error()) return;  // refusing is a correct answer
    auto entry = get<ModlistEntry>(0x6100);
    bool overlaps = entry.paddr < 0x8000 && 0x6000 < entry.paddr + entry.size;
    EXPECT_FALSE(overlaps) << std::hex << "module 0 at 0x" << entry.paddr << ", 0x" << entry.size
                           << " bytes";
    EXPECT_TRUE(bytes(entry.paddr, manifest.size()) == manifest) << "module 0 was overwritten";
}

TEST(PvhBootLayout, MemmapOfTwoRegions) {
    std::vector<std::byte> low(2 * kMiB), high(64 * 1024);
    vmm::GuestMemory memory{{{4 * kGiB, high.size(), high.data()}, {0, low.size(), low.data()}}};
    auto result = vmm::write_pvh_boot(memory, kernel_at(0x100000, 0x10, 0x10), {});
    ASSERT_FALSE(result.is_error()) << result.error().message();
    auto info = memory.read_obj<StartInfo>(0x6000).value();
    ASSERT_EQ(info.memmap_entries, 4u);
    expect_memmap(memory.read_obj<MemmapEntry>(0x6200).value(), 0, 0xa0000, 1);
    expect_memmap(memory.read_obj<MemmapEntry>(0x6200 + 24).value(), 0xa0000, 0x60000, 2);
    expect_memmap(memory.read_obj<MemmapEntry>(0x6200 + 48).value(), 0x100000, 0x100000, 1);
    expect_memmap(memory.read_obj<MemmapEntry>(0x6200 + 72).value(), 4 * kGiB, 64 * 1024, 1);
}

TEST(PvhBootLayout, RamTooSmallForTheBootData) {
    // The kernel fits below the boot data, but the command line at 0x7000 does not.
    std::vector<std::byte> ram(0x7000);
    vmm::GuestMemory memory{{{0, ram.size(), ram.data()}}};
    auto result = vmm::write_pvh_boot(memory, kernel_at(0x1000, 0x10, 0x10), {});
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().kind, vmm::ErrorKind::Usage);
    EXPECT_EQ(result.error().message(), "guest RAM too small for the PVH boot data");
}

TEST(PvhBootLayout, RamLayoutSplitsAt3GiB) {
    auto small = vmm::ram_layout(256 * kMiB);
    ASSERT_EQ(small.size(), 1u);
    EXPECT_EQ(small[0].base, 0u);
    EXPECT_EQ(small[0].size, 256 * kMiB);

    auto exact = vmm::ram_layout(3 * kGiB);
    ASSERT_EQ(exact.size(), 1u);
    EXPECT_EQ(exact[0].size, 3 * kGiB);

    auto page_over = vmm::ram_layout(3 * kGiB + 4096);
    ASSERT_EQ(page_over.size(), 2u);
    EXPECT_EQ(page_over[0].base, 0u);
    EXPECT_EQ(page_over[0].size, 3 * kGiB);
    EXPECT_EQ(page_over[1].base, 4 * kGiB);
    EXPECT_EQ(page_over[1].size, 4096u);

    auto big = vmm::ram_layout(8 * kGiB);
    ASSERT_EQ(big.size(), 2u);
    EXPECT_EQ(big[1].base, 0x1'0000'0000u);
    EXPECT_EQ(big[1].size, 5 * kGiB);
}

}  // namespace

namespace {

// A relocatable kernel as Phoenix's: one PT_LOAD at 2 MiB, the PHYS32_RELOC note.
KernelImage relocatable_kernel(uint64_t memsz, uint32_t max = 0x3fffffff) {
    ElfSpec spec = phx_test::simple_kernel(true, 0x200000);
    spec.loads = {{0x200000, pattern(0x40, 0x11), memsz}};
    uint32_t words[] = {0x200000, 0x200000, max};
    std::vector<std::byte> desc(sizeof(words));
    std::memcpy(desc.data(), words, sizeof(words));
    spec.notes = phx_test::concat(spec.notes, phx_test::elf_note("Xen", 19, desc));
    return kernel_from(spec);
}

}  // namespace

TEST(PlaceKernel, FixedKernelStaysAtItsAddress) {
    std::vector<std::byte> ram(64 * kMiB);
    vmm::GuestMemory memory{{{0, ram.size(), ram.data()}}};
    auto placement = vmm::place_kernel(memory, kernel_at(0x100000, 0x10, 0x1000), 0, 12345);
    EXPECT_EQ(placement.offset, 0u);
    EXPECT_EQ(placement.choices, 0u);
}

// 64 MiB of RAM, a 3 MiB kernel and 1 MiB of modules: starts 2, 4, ... 60 MiB (the kernel and
// the modules end at most at 64 MiB).
TEST(PlaceKernel, EveryChoiceIsAlignedAndFits) {
    std::vector<std::byte> ram(64 * kMiB);
    vmm::GuestMemory memory{{{0, ram.size(), ram.data()}}};
    KernelImage kernel = relocatable_kernel(3 * kMiB);
    std::set<uint64_t> offsets;
    for (uint64_t random = 0; random < 100; ++random) {
        auto placement = vmm::place_kernel(memory, kernel, kMiB, random);
        EXPECT_EQ(placement.choices, 30u);
        EXPECT_EQ(placement.offset % (2 * kMiB), 0u);
        EXPECT_LE(0x200000 + placement.offset + 3 * kMiB + kMiB, 64 * kMiB);
        offsets.insert(placement.offset);
    }
    EXPECT_EQ(offsets.size(), 30u);
    EXPECT_EQ(*offsets.begin(), 0u);
    EXPECT_EQ(*offsets.rbegin(), 58 * kMiB);
}

TEST(PlaceKernel, TheNotesMaximumBoundsTheLastByte) {
    std::vector<std::byte> ram(64 * kMiB);
    vmm::GuestMemory memory{{{0, ram.size(), ram.data()}}};
    KernelImage kernel = relocatable_kernel(3 * kMiB, 16 * kMiB - 1);
    auto placement = vmm::place_kernel(memory, kernel, 0, ~uint64_t(0));
    EXPECT_EQ(placement.choices, 6u);  // starts 2 .. 12 MiB
    EXPECT_LE(0x200000 + placement.offset + 3 * kMiB, 16 * kMiB);
}

TEST(PlaceKernel, NoRoomKeepsTheLinkAddress) {
    std::vector<std::byte> ram(4 * kMiB);
    vmm::GuestMemory memory{{{0, ram.size(), ram.data()}}};
    EXPECT_EQ(vmm::place_kernel(memory, relocatable_kernel(3 * kMiB), 0, 7).choices, 0u);
    EXPECT_EQ(vmm::place_kernel(memory, relocatable_kernel(kMiB), 4 * kMiB, 7).choices, 0u);
}

TEST(PlaceKernel, OffsetMovesSegmentsModulesAndNothingElse) {
    std::vector<std::byte> ram(16 * kMiB);
    vmm::GuestMemory memory{{{0, ram.size(), ram.data()}}};
    KernelImage kernel = relocatable_kernel(0x1000);
    auto manifest = pattern(100, 0x41);
    BootPlan plan{"console", {manifest}, 6 * kMiB};
    auto result = vmm::write_pvh_boot(memory, kernel, plan);
    ASSERT_FALSE(result.is_error()) << result.error().message();
    EXPECT_TRUE(std::equal(ram.begin() + ptrdiff_t(8 * kMiB), ram.begin() + ptrdiff_t(8 * kMiB + 0x40),
                           kernel.segments()[0].bytes.begin()));
    auto entry = memory.read_obj<ModlistEntry>(0x6100).value();
    EXPECT_EQ(entry.paddr, 8 * kMiB + 0x1000);
    // An offset that puts the kernel outside RAM is refused like a kernel linked there.
    plan.kernel_offset = 14 * kMiB;
    EXPECT_TRUE(vmm::write_pvh_boot(memory, kernel, plan).is_error());
}
