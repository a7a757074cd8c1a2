// The built vDSO image (kernel/vdso/user): parsed with lib/elf and looked up the three ways its
// consumers do (glibc's DT_GNU_HASH, Go's DT_HASH or DT_GNU_HASH with the LINUX_2.6 version,
// musl's DT_HASH scan), checked to need no relocation or write access, and then run on the
// host over a data page the test fills: the clocks must follow the kernel's arithmetic, wait
// out an odd sequence count, and fall back to the host's syscalls when the page says so.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <x86intrin.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kernel/vdso/vvar.h"
#include "lib/elf/elf.h"
#include "lib/elf/symbol_table.h"

using namespace lib::elf;

namespace {

// Dynamic-section entries and version records (gABI ch. 5; LSB "Symbol Versioning").
struct Elf64_Dyn {
    int64_t d_tag;
    uint64_t d_val;
};
struct Elf64_Verdef {
    uint16_t vd_version, vd_flags, vd_ndx, vd_cnt;
    uint32_t vd_hash, vd_aux, vd_next;
};
struct Elf64_Verdaux {
    uint32_t vda_name, vda_next;
};
constexpr int64_t DT_NULL = 0, DT_NEEDED = 1, DT_PLTRELSZ = 2, DT_HASH = 4, DT_STRTAB = 5,
                  DT_SYMTAB = 6, DT_RELA = 7, DT_SONAME = 14, DT_REL = 17, DT_TEXTREL = 22,
                  DT_JMPREL = 23, DT_GNU_HASH = 0x6ffffef5, DT_VERSYM = 0x6ffffff0,
                  DT_VERDEF = 0x6ffffffc;
constexpr uint16_t VER_FLG_BASE = 1;

const char* const kExports[] = {"__vdso_clock_gettime", "__vdso_gettimeofday",
                                "__vdso_time",          "__vdso_clock_getres",
                                "__vdso_getcpu",        "clock_gettime",
                                "gettimeofday",         "time",
                                "clock_getres",         "getcpu"};

uint32_t elf_hash(const char* name) {  // gABI's SysV hash
    uint32_t h = 0;
    for (; *name; ++name) {
        h = (h << 4) + uint8_t(*name);
        uint32_t g = h & 0xf0000000;
        if (g) h ^= g >> 24;
        h &= ~g;
    }
    return h;
}

uint32_t gnu_hash(const char* name) {  // djb2, as DT_GNU_HASH uses it
    uint32_t h = 5381;
    for (; *name; ++name) h = h * 33 + uint8_t(*name);
    return h;
}

std::vector<std::byte> read_image() {
    std::ifstream in(PHX_VDSO_IMAGE, std::ios::binary);
    std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
    std::vector<std::byte> out(bytes.size());
    std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
}

// The image as a consumer sees it: addresses are file offsets (one PT_LOAD at 0).
class VdsoImage {
public:
    explicit VdsoImage(std::span<const std::byte> file) : m_file(file) {}

    template <typename T>
    const T* at(uint64_t address) const {
        if (address > m_file.size() || m_file.size() - address < sizeof(T)) return nullptr;
        return reinterpret_cast<const T*>(m_file.data() + address);
    }
    const char* string(uint32_t offset) const { return at<char>(dyn(DT_STRTAB).value() + offset); }

    std::optional<uint64_t> dyn(int64_t tag) const {
        auto elf = ElfImage::parse(m_file);
        auto dynamic = elf.value().find_segment(PT_DYNAMIC);
        for (uint64_t p = dynamic->p_offset;
             p + sizeof(Elf64_Dyn) <= dynamic->p_offset + dynamic->p_filesz;
             p += sizeof(Elf64_Dyn)) {
            const auto* entry = at<Elf64_Dyn>(p);
            if (entry->d_tag == DT_NULL) break;
            if (entry->d_tag == tag) return entry->d_val;
        }
        return std::nullopt;
    }

    const Elf64_Sym* symbol(uint32_t index) const {
        return at<Elf64_Sym>(*dyn(DT_SYMTAB) + uint64_t(index) * sizeof(Elf64_Sym));
    }
    uint16_t version_of(uint32_t index) const {
        return *at<uint16_t>(*dyn(DT_VERSYM) + uint64_t(index) * 2) & 0x7fff;
    }

    // Go's vdsoFindVersion: the index of a non-base version definition with this name.
    int version_index(const char* name) const {
        uint64_t p = *dyn(DT_VERDEF);
        for (;;) {
            const auto* def = at<Elf64_Verdef>(p);
            if (!def) return -1;
            const auto* aux = at<Elf64_Verdaux>(p + def->vd_aux);
            if (!(def->vd_flags & VER_FLG_BASE) && def->vd_hash == elf_hash(name) &&
                std::strcmp(string(aux->vda_name), name) == 0)
                return def->vd_ndx & 0x7fff;
            if (!def->vd_next) return -1;
            p += def->vd_next;
        }
    }

    // A defined function of that name and version, as Go's vdsoParseSymbols accepts it.
    bool matches(uint32_t index, const char* name, int version) const {
        const Elf64_Sym* sym = symbol(index);
        uint8_t type = sym->st_info & 0xf, bind = sym->st_info >> 4;
        return type == STT_FUNC && (bind == STB_GLOBAL || bind == STB_WEAK) &&
               sym->st_shndx != SHN_UNDEF && std::strcmp(string(sym->st_name), name) == 0 &&
               version_of(index) == version;
    }

    std::optional<uint64_t> lookup_sysv(const char* name, int version) const {
        const auto* table = at<uint32_t>(*dyn(DT_HASH));
        uint32_t nbucket = table[0];
        const uint32_t* chain = table + 2 + nbucket;
        for (uint32_t i = table[2 + elf_hash(name) % nbucket]; i; i = chain[i])
            if (matches(i, name, version)) return symbol(i)->st_value;
        return std::nullopt;
    }

    std::optional<uint64_t> lookup_gnu(const char* name, int version) const {
        const auto* table = at<uint32_t>(*dyn(DT_GNU_HASH));
        uint32_t nbucket = table[0], symoffset = table[1], bloom_words = table[2];
        const uint32_t* buckets = table + 4 + bloom_words * 2;  // 64-bit bloom words
        const uint32_t* chain = buckets + nbucket;
        uint32_t h = gnu_hash(name);
        for (uint32_t i = buckets[h % nbucket]; i >= symoffset && i; ++i) {
            uint32_t entry = chain[i - symoffset];
            if ((entry | 1) == (h | 1) && matches(i, name, version)) return symbol(i)->st_value;
            if (entry & 1) break;
        }
        return std::nullopt;
    }

    // musl's __vdsosym: every symbol DT_HASH's nchain counts, by name and version.
    std::optional<uint64_t> lookup_musl(const char* name, int version) const {
        uint32_t count = at<uint32_t>(*dyn(DT_HASH))[1];
        for (uint32_t i = 0; i < count; ++i)
            if (matches(i, name, version)) return symbol(i)->st_value;
        return std::nullopt;
    }

private:
    std::span<const std::byte> m_file;
};

class Vdso : public ::testing::Test {
protected:
    void SetUp() override {
        bytes = read_image();
        ASSERT_GE(bytes.size(), sizeof(Elf64_Ehdr)) << "cannot read " << PHX_VDSO_IMAGE;
    }
    std::vector<std::byte> bytes;
};

TEST_F(Vdso, IsOneReadOnlySharedObjectWithoutRelocations) {
    auto elf = ElfImage::parse(bytes);
    ASSERT_TRUE(elf.has_value()) << describe(elf.error());
    EXPECT_EQ(elf.value().type(), ET_DYN);
    EXPECT_FALSE(elf.value().is_dynamically_linked());
    EXPECT_FALSE(elf.value().tls().has_value());
    int loads = 0;
    for (const Elf64_Phdr ph : elf.value().program_headers()) {
        if (ph.p_type != PT_LOAD) continue;
        ++loads;
        EXPECT_EQ(ph.p_offset, 0u);  // the file is mapped as it is
        EXPECT_EQ(ph.p_vaddr, 0u);
        EXPECT_EQ(ph.p_flags, PF_R | PF_X);
        EXPECT_LE(ph.p_filesz, bytes.size());
    }
    EXPECT_EQ(loads, 1);
    // glibc reads the dynamic section in place only when its segment is not writable.
    auto dynamic = elf.value().find_segment(PT_DYNAMIC);
    ASSERT_TRUE(dynamic.has_value());
    EXPECT_EQ(dynamic->p_flags & PF_W, 0u);
    EXPECT_TRUE(elf.value().find_segment(PT_GNU_EH_FRAME).has_value());

    VdsoImage image(bytes);
    for (int64_t tag : {DT_NEEDED, DT_RELA, DT_REL, DT_JMPREL, DT_PLTRELSZ, DT_TEXTREL})
        EXPECT_FALSE(image.dyn(tag).has_value()) << "dynamic tag " << tag;
    for (int64_t tag : {DT_HASH, DT_GNU_HASH, DT_SYMTAB, DT_STRTAB, DT_VERSYM, DT_VERDEF})
        EXPECT_TRUE(image.dyn(tag).has_value()) << "dynamic tag " << tag;
    ASSERT_TRUE(image.dyn(DT_SONAME).has_value());
    EXPECT_STREQ(image.string(uint32_t(*image.dyn(DT_SONAME))), "linux-vdso.so.1");
}

TEST_F(Vdso, ExportsEveryFunctionAtLinux26AllThreeWays) {
    auto symbols = SymbolTable::parse(bytes);
    ASSERT_TRUE(symbols.has_value());
    EXPECT_TRUE(symbols.value().is_dynamic());  // stripped: .dynsym is what there is
    VdsoImage image(bytes);
    int version = image.version_index("LINUX_2.6");
    ASSERT_GT(version, 1);                         // 1 is the base version (the soname)
    EXPECT_EQ(elf_hash("LINUX_2.6"), 0x3ae75f6u);  // the key Go and glibc carry
    for (const char* name : kExports) {
        auto found = symbols.value().find(name);
        ASSERT_TRUE(found.has_value()) << name;
        EXPECT_GT(found->size, 0u) << name;
        EXPECT_EQ(image.lookup_sysv(name, version), found->start) << name;
        EXPECT_EQ(image.lookup_gnu(name, version), found->start) << name;
        EXPECT_EQ(image.lookup_musl(name, version), found->start) << name;
    }
    EXPECT_EQ(image.lookup_sysv("__vdso_clock_gettime", version),
              image.lookup_sysv("clock_gettime", version));  // the alias is the same code
    EXPECT_FALSE(image.lookup_gnu("__vdso_clock_gettime", version + 1).has_value());
    size_t exported = 0;  // the helpers stay local: nothing but the ten names
    symbols.value().for_each([&](const Symbol&) { ++exported; });
    EXPECT_EQ(exported, std::size(kExports));
}

// The image mapped on the host as the kernel maps it: [data page][image], the image executable.
class VdsoRun : public Vdso {
protected:
    using ClockGettime = int (*)(int, timespec*);
    using Gettimeofday = int (*)(timeval*, void*);
    using Time = int64_t (*)(int64_t*);
    using Getcpu = int (*)(unsigned*, unsigned*, void*);

    void SetUp() override {
        Vdso::SetUp();
        size_t image_size = (bytes.size() + 4095) & ~size_t(4095);
        m_size = 4096 + image_size;
        void* memory =
            mmap(nullptr, m_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ASSERT_NE(memory, MAP_FAILED);
        m_memory = static_cast<std::byte*>(memory);
        std::memcpy(m_memory + 4096, bytes.data(), bytes.size());
        ASSERT_EQ(mprotect(m_memory + 4096, image_size, PROT_READ | PROT_EXEC), 0);
        vvar = reinterpret_cast<kernel::vdso::VvarData*>(m_memory);
        VdsoImage image(bytes);
        int version = image.version_index("LINUX_2.6");
        auto address = [&](const char* name) {
            return m_memory + 4096 + *image.lookup_gnu(name, version);
        };
        clock_gettime = reinterpret_cast<ClockGettime>(address("__vdso_clock_gettime"));
        clock_getres = reinterpret_cast<ClockGettime>(address("__vdso_clock_getres"));
        gettimeofday = reinterpret_cast<Gettimeofday>(address("__vdso_gettimeofday"));
        time = reinterpret_cast<Time>(address("__vdso_time"));
        getcpu = reinterpret_cast<Getcpu>(address("__vdso_getcpu"));
    }
    void TearDown() override {
        if (m_memory) munmap(m_memory, m_size);
    }

    // A clock at 1 ns per tick that started now, anchored at 1000 s of realtime.
    kernel::time::TscClock publish() {
        kernel::time::TscClock clock{__rdtsc(), 1ull << 32, 1000000000000ull};
        vvar->tsc_at_boot = clock.tsc_at_boot;
        vvar->ns_per_tick_q32 = clock.ns_per_tick_q32;
        vvar->realtime_at_boot_ns = clock.realtime_at_boot_ns;
        vvar->mode = kernel::vdso::VclockMode::Tsc;
        vvar->seq = 2;
        return clock;
    }

    static uint64_t ns(const timespec& ts) { return uint64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec; }

    kernel::vdso::VvarData* vvar = nullptr;
    ClockGettime clock_gettime = nullptr, clock_getres = nullptr;
    Gettimeofday gettimeofday = nullptr;
    Time time = nullptr;
    Getcpu getcpu = nullptr;

private:
    std::byte* m_memory = nullptr;
    size_t m_size = 0;
};

TEST_F(VdsoRun, ClocksFollowTheKernelsArithmetic) {
    auto clock = publish();
    for (int id : {CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_MONOTONIC_RAW, CLOCK_MONOTONIC_COARSE}) {
        timespec ts{};
        uint64_t before = clock.monotonic_ns(__rdtsc());
        ASSERT_EQ(clock_gettime(id, &ts), 0);
        uint64_t after = clock.monotonic_ns(__rdtsc());
        EXPECT_LE(before, ns(ts)) << id;
        EXPECT_LE(ns(ts), after) << id;
        EXPECT_LT(ts.tv_nsec, 1000000000) << id;
    }
    for (int id : {CLOCK_REALTIME, CLOCK_REALTIME_COARSE}) {
        timespec ts{};
        uint64_t before = clock.realtime_ns(__rdtsc());
        ASSERT_EQ(clock_gettime(id, &ts), 0);
        EXPECT_LE(before, ns(ts)) << id;
        EXPECT_LE(ns(ts), clock.realtime_ns(__rdtsc())) << id;
    }
    timeval tv{};
    uint64_t before = clock.realtime_ns(__rdtsc()) / 1000;
    ASSERT_EQ(gettimeofday(&tv, nullptr), 0);
    uint64_t us = uint64_t(tv.tv_sec) * 1000000 + tv.tv_usec;
    EXPECT_LE(before, us);
    EXPECT_LE(us, clock.realtime_ns(__rdtsc()) / 1000);
    EXPECT_EQ(gettimeofday(nullptr, nullptr), 0);
    int64_t seconds = 0;
    EXPECT_EQ(time(&seconds), seconds);
    EXPECT_GE(seconds, 1000);
    EXPECT_LE(uint64_t(seconds), clock.realtime_ns(__rdtsc()) / 1000000000);
    timespec res{-1, -1};
    EXPECT_EQ(clock_getres(CLOCK_MONOTONIC, &res), 0);
    EXPECT_EQ(res.tv_sec, 0);
    EXPECT_EQ(res.tv_nsec, 1);
    EXPECT_EQ(clock_getres(CLOCK_REALTIME, nullptr), 0);
    unsigned cpu = 7, node = 7;
    EXPECT_EQ(getcpu(&cpu, &node, nullptr), 0);
    EXPECT_EQ(cpu, 0u);
    EXPECT_EQ(node, 0u);
}

// What the vDSO leaves to the kernel reaches it: here the host's syscalls answer.
TEST_F(VdsoRun, FallsBackToTheSyscall) {
    publish();
    timespec ts{}, host{};
    EXPECT_EQ(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts), 0);
    EXPECT_EQ(clock_gettime(99, &ts), -EINVAL);  // the raw syscall result
    EXPECT_EQ(clock_getres(99, &ts), -EINVAL);
    EXPECT_EQ(clock_getres(CLOCK_THREAD_CPUTIME_ID, &ts), 0);
    struct timezone tz {
        - 1, -1
    };
    timeval tv{};
    EXPECT_EQ(gettimeofday(&tv, &tz), 0);
    EXPECT_NE(tz.tz_dsttime, -1);  // the host kernel filled it

    vvar->mode = kernel::vdso::VclockMode::None;  // the page says: ask the kernel
    ASSERT_EQ(::clock_gettime(CLOCK_MONOTONIC, &host), 0);
    ASSERT_EQ(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
    EXPECT_LE(ns(host), ns(ts));
    ASSERT_EQ(::clock_gettime(CLOCK_MONOTONIC, &host), 0);
    EXPECT_LE(ns(ts), ns(host));
    int64_t host_seconds = ::time(nullptr);
    EXPECT_LE(host_seconds, time(nullptr));
    EXPECT_GT(host_seconds, 1600000000);
}

// A reader that finds the sequence count odd waits until the writer is done.
TEST_F(VdsoRun, WaitsWhileTheKernelWritesThePage) {
    auto clock = publish();
    vvar->seq = 3;
    std::atomic<bool> done{false};
    timespec ts{};
    std::thread reader([&] {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        done = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(done.load());
    vvar->realtime_at_boot_ns = 5;
    vvar->seq = 4;
    reader.join();
    EXPECT_TRUE(done.load());
    EXPECT_LE(ns(ts), clock.monotonic_ns(__rdtsc()));
    EXPECT_GT(ns(ts), 0u);
}

}  // namespace
