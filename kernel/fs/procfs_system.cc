// /proc's files about the machine: cpuinfo from CPUID (flags the kernel did not enable the
// state for left out, as Linux does), meminfo from the frame allocator, stat, uptime and
// loadavg from the clock, the boot id and random UUIDs.
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/cpu_features.h"
#include "kernel/fs/procfs_files.h"
#include "kernel/mm/frames.h"
#include "kernel/random/random.h"
#include "kernel/time/clock.h"

namespace kernel::fs::procfs {

namespace {

constexpr uint64_t kPageKb = 4;
constexpr uint64_t kTicksPerSecond = 100;  // USER_HZ

// Which XCR0 state a flag needs before a program may use it.
enum class Needs : uint8_t { Nothing, Avx, Avx512 };

struct Flag {
    uint32_t leaf;
    uint8_t subleaf;
    uint8_t reg;  // 0 eax, 1 ebx, 2 ecx, 3 edx
    uint8_t bit;
    Needs needs;
    std::string_view name;  // Linux's name (arch/x86/include/asm/cpufeatures.h)
};

constexpr Flag kFlags[] = {
    {1, 0, 3, 0, Needs::Nothing, "fpu"},
    {1, 0, 3, 1, Needs::Nothing, "vme"},
    {1, 0, 3, 2, Needs::Nothing, "de"},
    {1, 0, 3, 3, Needs::Nothing, "pse"},
    {1, 0, 3, 4, Needs::Nothing, "tsc"},
    {1, 0, 3, 5, Needs::Nothing, "msr"},
    {1, 0, 3, 6, Needs::Nothing, "pae"},
    {1, 0, 3, 7, Needs::Nothing, "mce"},
    {1, 0, 3, 8, Needs::Nothing, "cx8"},
    {1, 0, 3, 9, Needs::Nothing, "apic"},
    {1, 0, 3, 11, Needs::Nothing, "sep"},
    {1, 0, 3, 12, Needs::Nothing, "mtrr"},
    {1, 0, 3, 13, Needs::Nothing, "pge"},
    {1, 0, 3, 14, Needs::Nothing, "mca"},
    {1, 0, 3, 15, Needs::Nothing, "cmov"},
    {1, 0, 3, 16, Needs::Nothing, "pat"},
    {1, 0, 3, 17, Needs::Nothing, "pse36"},
    {1, 0, 3, 19, Needs::Nothing, "clflush"},
    {1, 0, 3, 23, Needs::Nothing, "mmx"},
    {1, 0, 3, 24, Needs::Nothing, "fxsr"},
    {1, 0, 3, 25, Needs::Nothing, "sse"},
    {1, 0, 3, 26, Needs::Nothing, "sse2"},
    {1, 0, 3, 27, Needs::Nothing, "ss"},
    {1, 0, 3, 28, Needs::Nothing, "ht"},
    {0x80000001, 0, 3, 11, Needs::Nothing, "syscall"},
    {0x80000001, 0, 3, 20, Needs::Nothing, "nx"},
    {0x80000001, 0, 3, 22, Needs::Nothing, "mmxext"},
    {0x80000001, 0, 3, 25, Needs::Nothing, "fxsr_opt"},
    {0x80000001, 0, 3, 26, Needs::Nothing, "pdpe1gb"},
    {0x80000001, 0, 3, 27, Needs::Nothing, "rdtscp"},
    {0x80000001, 0, 3, 29, Needs::Nothing, "lm"},
    {1, 0, 2, 0, Needs::Nothing, "pni"},
    {1, 0, 2, 1, Needs::Nothing, "pclmulqdq"},
    {1, 0, 2, 3, Needs::Nothing, "monitor"},
    {1, 0, 2, 9, Needs::Nothing, "ssse3"},
    {1, 0, 2, 12, Needs::Avx, "fma"},
    {1, 0, 2, 13, Needs::Nothing, "cx16"},
    {1, 0, 2, 17, Needs::Nothing, "pcid"},
    {1, 0, 2, 19, Needs::Nothing, "sse4_1"},
    {1, 0, 2, 20, Needs::Nothing, "sse4_2"},
    {1, 0, 2, 21, Needs::Nothing, "x2apic"},
    {1, 0, 2, 22, Needs::Nothing, "movbe"},
    {1, 0, 2, 23, Needs::Nothing, "popcnt"},
    {1, 0, 2, 24, Needs::Nothing, "tsc_deadline_timer"},
    {1, 0, 2, 25, Needs::Nothing, "aes"},
    {1, 0, 2, 26, Needs::Nothing, "xsave"},
    {1, 0, 2, 28, Needs::Avx, "avx"},
    {1, 0, 2, 29, Needs::Avx, "f16c"},
    {1, 0, 2, 30, Needs::Nothing, "rdrand"},
    {1, 0, 2, 31, Needs::Nothing, "hypervisor"},
    {0x80000001, 0, 2, 0, Needs::Nothing, "lahf_lm"},
    {0x80000001, 0, 2, 5, Needs::Nothing, "abm"},
    {0x80000001, 0, 2, 8, Needs::Nothing, "3dnowprefetch"},
    {7, 0, 1, 0, Needs::Nothing, "fsgsbase"},
    {7, 0, 1, 3, Needs::Nothing, "bmi1"},
    {7, 0, 1, 4, Needs::Nothing, "hle"},
    {7, 0, 1, 5, Needs::Avx, "avx2"},
    {7, 0, 1, 7, Needs::Nothing, "smep"},
    {7, 0, 1, 8, Needs::Nothing, "bmi2"},
    {7, 0, 1, 9, Needs::Nothing, "erms"},
    {7, 0, 1, 10, Needs::Nothing, "invpcid"},
    {7, 0, 1, 11, Needs::Nothing, "rtm"},
    {7, 0, 1, 16, Needs::Avx512, "avx512f"},
    {7, 0, 1, 17, Needs::Avx512, "avx512dq"},
    {7, 0, 1, 18, Needs::Nothing, "rdseed"},
    {7, 0, 1, 19, Needs::Nothing, "adx"},
    {7, 0, 1, 20, Needs::Nothing, "smap"},
    {7, 0, 1, 21, Needs::Avx512, "avx512ifma"},
    {7, 0, 1, 23, Needs::Nothing, "clflushopt"},
    {7, 0, 1, 24, Needs::Nothing, "clwb"},
    {7, 0, 1, 28, Needs::Avx512, "avx512cd"},
    {7, 0, 1, 29, Needs::Nothing, "sha_ni"},
    {7, 0, 1, 30, Needs::Avx512, "avx512bw"},
    {7, 0, 1, 31, Needs::Avx512, "avx512vl"},
    {0xd, 1, 0, 0, Needs::Nothing, "xsaveopt"},
    {0xd, 1, 0, 1, Needs::Nothing, "xsavec"},
    {0xd, 1, 0, 3, Needs::Nothing, "xsaves"},
    {7, 0, 2, 1, Needs::Avx512, "avx512vbmi"},
    {7, 0, 2, 2, Needs::Nothing, "umip"},
    {7, 0, 2, 3, Needs::Nothing, "pku"},
    {7, 0, 2, 6, Needs::Avx512, "avx512_vbmi2"},
    {7, 0, 2, 8, Needs::Nothing, "gfni"},
    {7, 0, 2, 9, Needs::Avx, "vaes"},
    {7, 0, 2, 10, Needs::Avx, "vpclmulqdq"},
    {7, 0, 2, 11, Needs::Avx512, "avx512_vnni"},
    {7, 0, 2, 12, Needs::Avx512, "avx512_bitalg"},
    {7, 0, 2, 14, Needs::Avx512, "avx512_vpopcntdq"},
    {7, 0, 2, 22, Needs::Nothing, "rdpid"},
    {7, 0, 3, 4, Needs::Nothing, "fsrm"},
    {7, 0, 3, 10, Needs::Nothing, "md_clear"},
};

uint32_t reg_of(const arch::CpuidResult& r, uint8_t reg) {
    const uint32_t regs[] = {r.eax, r.ebx, r.ecx, r.edx};
    return regs[reg & 3];
}

bool enabled(Needs needs) {
    uint64_t xcr0 = arch::cpu().xcr0;
    switch (needs) {
        case Needs::Avx:
            return xcr0 & (1u << 2);
        case Needs::Avx512:
            return (xcr0 & 0xe4) == 0xe4;
        case Needs::Nothing:
            break;
    }
    return true;
}

// " fpu vme ...": each leaf asked once, in table order (the table is grouped by leaf).
void write_flags(TextSink& out, uint32_t max_leaf, uint32_t max_extended) {
    uint32_t cached_leaf = 0, cached_subleaf = 0;
    arch::CpuidResult cached{};
    bool have = false;
    for (const Flag& flag : kFlags) {
        bool extended = flag.leaf >= 0x80000000;
        if (extended ? flag.leaf > max_extended : flag.leaf > max_leaf) continue;
        if (!have || cached_leaf != flag.leaf || cached_subleaf != flag.subleaf) {
            cached = arch::cpuid(flag.leaf, flag.subleaf);
            cached_leaf = flag.leaf;
            cached_subleaf = flag.subleaf;
            have = true;
        }
        if (((reg_of(cached, flag.reg) >> flag.bit) & 1) && enabled(flag.needs)) {
            out.write(" ");
            out.write(flag.name);
        }
    }
}

// The brand string (CPUID 0x80000002..4) without its leading blanks.
std::string_view model_name(char (&buffer)[49], uint32_t max_extended) {
    if (max_extended < 0x80000004) return "unknown";
    for (uint32_t i = 0; i < 3; ++i) {
        arch::CpuidResult r = arch::cpuid(0x80000002 + i);
        __builtin_memcpy(buffer + 16 * i, &r, 16);
    }
    buffer[48] = '\0';
    std::string_view name(buffer);
    while (!name.empty() && name[0] == ' ') name.remove_prefix(1);
    return name.empty() ? "unknown" : name;  // as Linux, for a CPU without a brand string
}

void meminfo_line(TextSink& out, std::string_view label, uint64_t kb, bool unit = true) {
    lib::format_to(out, "{:<16}{:>8}{}\n", label, kb, unit ? " kB" : "");
}

void write_uuid(TextSink& out, const uint8_t (&bytes)[16]) {
    for (size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out.write("-");
        lib::format_to(out, "{:02x}", bytes[i]);
    }
    out.write("\n");
}

// A random (version 4, RFC 4122 §4.4) UUID.
void new_uuid(uint8_t (&bytes)[16]) {
    random::fill(std::as_writable_bytes(std::span(bytes)));
    bytes[6] = uint8_t((bytes[6] & 0x0f) | 0x40);
    bytes[8] = uint8_t((bytes[8] & 0x3f) | 0x80);
}

}  // namespace

void cpuinfo(TextSink& out, uint64_t) {
    arch::CpuidResult leaf0 = arch::cpuid(0), leaf1 = arch::cpuid(1);
    uint32_t max_extended = arch::cpuid(0x80000000).eax;
    uint32_t family = (leaf1.eax >> 8) & 0xf, model = (leaf1.eax >> 4) & 0xf;
    if (family == 0xf) family += (leaf1.eax >> 20) & 0xff;
    if (family == 6 || family >= 0xf) model |= ((leaf1.eax >> 16) & 0xf) << 4;
    char brand[49];
    uint64_t khz = time::tsc_hz() / 1000;
    lib::format_to(out,
                   "processor\t: 0\nvendor_id\t: {}\ncpu family\t: {}\nmodel\t\t: {}\n"
                   "model name\t: {}\nstepping\t: {}\nmicrocode\t: 0x1\ncpu MHz\t\t: {}.{:03}\n",
                   arch::cpu().vendor, family, model, model_name(brand, max_extended),
                   leaf1.eax & 0xf, khz / 1000, khz % 1000);
    if (max_extended >= 0x80000006)
        lib::format_to(out, "cache size\t: {} KB\n", arch::cpuid(0x80000006).ecx >> 16);
    lib::format_to(out,
                   "physical id\t: 0\nsiblings\t: 1\ncore id\t\t: 0\ncpu cores\t: 1\n"
                   "apicid\t\t: 0\ninitial apicid\t: 0\nfpu\t\t: yes\nfpu_exception\t: yes\n"
                   "cpuid level\t: {}\nwp\t\t: yes\nflags\t\t:",
                   leaf0.eax);
    write_flags(out, leaf0.eax, max_extended);
    uint32_t physical = 46, virtual_bits = 48;
    if (max_extended >= 0x80000008) {
        uint32_t sizes = arch::cpuid(0x80000008).eax;
        physical = sizes & 0xff;
        virtual_bits = (sizes >> 8) & 0xff;
    }
    uint32_t clflush = ((leaf1.ebx >> 8) & 0xff) * 8;
    lib::format_to(out,
                   "\nbugs\t\t:\nbogomips\t: {}.{:02}\nclflush size\t: {}\n"
                   "cache_alignment\t: {}\naddress sizes\t: {} bits physical, {} bits virtual\n"
                   "power management:\n\n",
                   khz * 2 / 1000, (khz * 2 % 1000) / 10, clflush, clflush, physical, virtual_bits);
}

void meminfo(TextSink& out, uint64_t) {
    uint64_t total = mm::total_frame_count() * kPageKb, free = mm::free_frame_count() * kPageKb;
    uint64_t used = total - free;
    meminfo_line(out, "MemTotal:", total);
    meminfo_line(out, "MemFree:", free);
    meminfo_line(out, "MemAvailable:", free);
    meminfo_line(out, "Buffers:", 0);
    meminfo_line(out, "Cached:", 0);
    meminfo_line(out, "SwapCached:", 0);
    meminfo_line(out, "Active:", used);
    meminfo_line(out, "Inactive:", 0);
    meminfo_line(out, "SwapTotal:", 0);
    meminfo_line(out, "SwapFree:", 0);
    meminfo_line(out, "Dirty:", 0);
    meminfo_line(out, "Writeback:", 0);
    meminfo_line(out, "AnonPages:", used);
    meminfo_line(out, "Mapped:", 0);
    meminfo_line(out, "Shmem:", 0);
    meminfo_line(out, "Slab:", 0);
    meminfo_line(out, "PageTables:", 0);
    meminfo_line(out, "CommitLimit:", total / 2);  // overcommit heuristic: half the RAM, no swap
    meminfo_line(out, "Committed_AS:", used);
    meminfo_line(out, "VmallocTotal:", 34359738367);
    meminfo_line(out, "VmallocUsed:", 0);
    meminfo_line(out, "VmallocChunk:", 0);
    meminfo_line(out, "HugePages_Total:", 0, false);
    meminfo_line(out, "HugePages_Free:", 0, false);
    meminfo_line(out, "HugePages_Rsvd:", 0, false);
    meminfo_line(out, "HugePages_Surp:", 0, false);
    meminfo_line(out, "Hugepagesize:", 2048);
    meminfo_line(out, "Hugetlb:", 0);
}

void system_stat(TextSink& out, uint64_t) {
    // The one CPU has run nothing but the program (poll spins rather than idles).
    uint64_t user = time::monotonic_ns() / (1000000000 / kTicksPerSecond);
    uint64_t boot = (time::realtime_ns() - time::monotonic_ns()) / 1000000000;
    lib::format_to(out,
                   "cpu  {} 0 0 0 0 0 0 0 0 0\ncpu0 {} 0 0 0 0 0 0 0 0 0\nintr 0\nctxt 0\n"
                   "btime {}\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n"
                   "softirq 0 0 0 0 0 0 0 0 0 0 0\n",
                   user, user, boot);
}

void uptime(TextSink& out, uint64_t) {
    uint64_t centiseconds = time::monotonic_ns() / 10000000;
    lib::format_to(out, "{}.{:02} 0.00\n", centiseconds / 100, centiseconds % 100);
}

void loadavg(TextSink& out, uint64_t) { out.write("0.00 0.00 0.00 1/1 1\n"); }

void boot_id(TextSink& out, uint64_t) {
    static uint8_t id[16];
    static bool made = false;
    if (!made) {
        new_uuid(id);
        made = true;
    }
    write_uuid(out, id);
}

void random_uuid(TextSink& out, uint64_t) {
    uint8_t id[16];
    new_uuid(id);
    write_uuid(out, id);
}

void threads_max(TextSink& out, uint64_t) {
    // Linux: RAM pages / (8 * THREAD_SIZE / PAGE_SIZE), at least 20.
    uint64_t count = mm::total_frame_count() / 32;
    lib::format_to(out, "{}\n", count < 20 ? 20 : count);
}

}  // namespace kernel::fs::procfs
