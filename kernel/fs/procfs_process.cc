// /proc/1: the process's files, in the layouts of Linux's fs/proc (array.c, task_mmu.c,
// base.c). Memory figures come from the VM areas in one pass; the resident set is an
// approximation (the frames in use, at most the mapped size): walking the page tables to
// count it would cost far more than a read of status is worth in emulated ring 0.
#include "kernel/arch/x86_64/layout.h"
#include "kernel/fs/procfs_files.h"
#include "kernel/mm/frames.h"
#include "kernel/mm/user_ptr.h"
#include "kernel/proc/process.h"
#include "kernel/time/clock.h"

namespace kernel::fs::procfs {

namespace {

constexpr uint64_t kPage = arch::kPageSize;
constexpr uint64_t kTicksPerSecond = 100;        // USER_HZ, AT_CLKTCK
constexpr uint64_t kTtyConsole = (5u << 8) | 1;  // /dev/console's tty_nr
constexpr uint64_t kStackLimit = 8ull << 20;     // RLIMIT_STACK (kernel/sys/proc.cc)
// Linux's maps lines pad the name to this column (25 + sizeof(void*) * 6 - 1).
constexpr size_t kMapsNameColumn = 73;

uint64_t ticks(uint64_t ns) { return ns / (1000000000 / kTicksPerSecond); }

// What the VM areas add up to, in bytes.
struct MemoryUse {
    uint64_t size = 0, data = 0, stack = 0, exe = 0, lib = 0, file = 0;
    uint64_t code_start = 0, code_end = 0, data_start = 0, data_end = 0;
    uint64_t resident = 0;
};

MemoryUse memory_use() {
    MemoryUse use;
    for (const lib::vm::VmArea& area : proc::current().address_space().areas()) {
        uint64_t length = area.length();
        use.size += length;
        bool exec = area.prot & lib::vm::kProtExec, write = area.prot & lib::vm::kProtWrite;
        if (area.kind == lib::vm::VmKind::Stack)
            use.stack += length;
        else if (write)
            use.data += length;
        if (lib::vm::is_file(area.kind)) {
            use.file += length;
            if (exec) use.lib += length;
        }
        if (area.kind != lib::vm::VmKind::Program) continue;
        // The program's (and its interpreter's) segments: code, then data.
        if (exec) {
            use.exe += length;
            if (!use.code_start) use.code_start = area.start;
            use.code_end = area.end;
        } else if (write) {
            if (!use.data_start) use.data_start = area.start;
            use.data_end = area.end;
        }
    }
    uint64_t in_use = (mm::total_frame_count() - mm::free_frame_count()) * kPage;
    use.resident = in_use < use.size ? in_use : use.size;
    return use;
}

// [start, end) of the program's memory, copied out as it is now; stops at a hole.
void copy_user_range(TextSink& out, uint64_t start, uint64_t end) {
    char chunk[512];
    while (start < end) {
        size_t n = end - start < sizeof(chunk) ? size_t(end - start) : sizeof(chunk);
        if (mm::copy_from_user_bytes(chunk, start, n).is_error()) return;
        out.write({chunk, n});
        start += n;
    }
}

void kb_line(TextSink& out, std::string_view label, uint64_t bytes) {
    lib::format_to(out, "{}\t{:>8} kB\n", label, bytes / 1024);
}

}  // namespace

std::string_view command_name() {
    std::string_view exe = proc::current().exe_path();
    size_t slash = exe.rfind('/');
    if (slash != std::string_view::npos) exe.remove_prefix(slash + 1);
    return exe.substr(0, 15);  // TASK_COMM_LEN - 1
}

void comm(TextSink& out, uint64_t) { lib::format_to(out, "{}\n", command_name()); }

void status(TextSink& out, uint64_t) {
    auto& process = proc::current();
    MemoryUse use = memory_use();
    lib::format_to(out,
                   "Name:\t{}\nUmask:\t{:04o}\nState:\tR (running)\nTgid:\t1\nNgid:\t0\nPid:\t1\n"
                   "PPid:\t0\nTracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t{}\n"
                   "Groups:\t\nNStgid:\t1\nNSpid:\t1\nNSpgid:\t1\nNSsid:\t1\n",
                   command_name(), process.umask, proc::FdTable::kMaxFds);
    kb_line(out, "VmPeak:", use.size);
    kb_line(out, "VmSize:", use.size);
    kb_line(out, "VmLck:", 0);
    kb_line(out, "VmPin:", 0);
    kb_line(out, "VmHWM:", use.resident);
    kb_line(out, "VmRSS:", use.resident);
    kb_line(out, "RssAnon:", use.resident > use.file ? use.resident - use.file : 0);
    kb_line(out, "RssFile:", use.resident < use.file ? use.resident : use.file);
    kb_line(out, "RssShmem:", 0);
    kb_line(out, "VmData:", use.data);
    kb_line(out, "VmStk:", use.stack);
    kb_line(out, "VmExe:", use.exe);
    kb_line(out, "VmLib:", use.lib);
    kb_line(out, "VmPTE:", (use.size / (512 * kPage) + 1) * 4096);  // one table per 2 MiB
    kb_line(out, "VmSwap:", 0);
    kb_line(out, "HugetlbPages:", 0);
    // FIXME(#5): the signal masks from the signal state once handlers are delivered.
    out.write(
        "CoreDumping:\t0\nTHP_enabled:\t1\nThreads:\t1\nSigQ:\t0/63459\n"
        "SigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\nSigBlk:\t0000000000000000\n"
        "SigIgn:\t0000000000000000\nSigCgt:\t0000000000000000\nCapInh:\t0000000000000000\n"
        "CapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\n"
        "CapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n"
        "Speculation_Store_Bypass:\tthread vulnerable\nCpus_allowed:\t1\n"
        "Cpus_allowed_list:\t0\nMems_allowed:\t00000001\nMems_allowed_list:\t0\n"
        "voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n");
}

void stat(TextSink& out, uint64_t) {
    auto& process = proc::current();
    MemoryUse use = memory_use();
    const auto& strings = process.stack_strings();
    uint64_t start = ticks(process.start_ns());
    uint64_t running = ticks(time::monotonic_ns() - process.start_ns());
    // pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
    // utime stime cutime cstime priority nice num_threads itrealvalue starttime vsize rss
    // rsslim startcode endcode startstack kstkesp kstkeip signal blocked sigignore sigcatch
    // wchan nswap cnswap exit_signal processor rt_priority policy delayacct_blkio_ticks
    // guest_time cguest_time start_data end_data start_brk arg_start arg_end env_start
    // env_end exit_code (proc(5)).
    lib::format_to(out, "1 ({}) R 0 1 1 {} 1 4194560 0 0 0 0 {} 0 0 0 20 0 1 0 {} {} {} ",
                   command_name(), kTtyConsole, running, start, use.size, use.resident / kPage);
    lib::format_to(out, "18446744073709551615 {} {} {} 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 ",
                   use.code_start, use.code_end, strings.sp);
    lib::format_to(out, "{} {} {} {} {} {} {} 0\n", use.data_start, use.data_end,
                   process.brk_start(), strings.arg_start, strings.arg_end, strings.env_start,
                   strings.env_end);
}

void statm(TextSink& out, uint64_t) {
    MemoryUse use = memory_use();
    // size resident shared text lib data dt, in pages.
    lib::format_to(out, "{} {} 0 {} 0 {} 0\n", use.size / kPage, use.resident / kPage,
                   use.exe / kPage, (use.data + use.stack) / kPage);
}

// Number writers for maps: glibc reads the file as every program starts (pthread_getattr_np
// of the main thread), and lib::format's general parsing costs several times the
// instructions per line, which emulated ring 0 makes the bulk of that open.
char* put_hex(char* at, uint64_t value, int min_digits) {
    int digits = 1;
    for (uint64_t rest = value >> 4; rest; rest >>= 4) ++digits;
    if (digits < min_digits) digits = min_digits;
    for (int i = digits - 1; i >= 0; --i, value >>= 4) at[i] = "0123456789abcdef"[value & 15];
    return at + digits;
}

char* put_decimal(char* at, uint64_t value) {
    char digits[20];
    int count = 0;
    do {
        digits[count++] = char('0' + value % 10);
        value /= 10;
    } while (value);
    while (count) *at++ = digits[--count];
    return at;
}

// One line as Linux's show_map_vma writes it: "%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu ",
// then the name from column kMapsNameColumn on.
void maps(TextSink& out, uint64_t) {
    auto& process = proc::current();
    char line[128];  // the numbers take at most 88 characters, the padding 73
    for (const lib::vm::VmArea& area : process.address_space().areas()) {
        proc::Process::MappedFile mapped{};
        bool named = process.mapped_file(area, mapped);
        uint64_t dev = mapped.dev;
        char* at = put_hex(line, area.start, 8);
        *at++ = '-';
        at = put_hex(at, area.end, 8);
        *at++ = ' ';
        *at++ = area.prot & lib::vm::kProtRead ? 'r' : '-';
        *at++ = area.prot & lib::vm::kProtWrite ? 'w' : '-';
        *at++ = area.prot & lib::vm::kProtExec ? 'x' : '-';
        *at++ = lib::vm::is_shared_file(area.kind) ? 's' : 'p';
        *at++ = ' ';
        at = put_hex(at, named ? mapped.offset : 0, 8);
        *at++ = ' ';
        at = put_hex(at, (dev >> 8) & 0xfff, 2);
        *at++ = ':';
        at = put_hex(at, (dev & 0xff) | ((dev >> 12) & 0xfff00), 2);
        *at++ = ' ';
        at = put_decimal(at, mapped.ino);
        *at++ = ' ';
        std::string_view name = named ? mapped.path : std::string_view{};
        if (area.kind == lib::vm::VmKind::Heap) name = "[heap]";
        if (area.kind == lib::vm::VmKind::Stack) name = "[stack]";
        if (area.kind == lib::vm::VmKind::Vvar) name = "[vvar]";
        if (area.kind == lib::vm::VmKind::Vdso) name = "[vdso]";
        if (name.empty())
            *at++ = '\n';
        else
            while (at < line + kMapsNameColumn) *at++ = ' ';
        out.write({line, size_t(at - line)});
        if (!name.empty()) {
            out.write(name);
            out.write("\n");
        }
    }
}

void cmdline(TextSink& out, uint64_t) {
    const auto& strings = proc::current().stack_strings();
    copy_user_range(out, strings.arg_start, strings.arg_end);
}

void environ(TextSink& out, uint64_t) {
    const auto& strings = proc::current().stack_strings();
    copy_user_range(out, strings.env_start, strings.env_end);
}

void auxv(TextSink& out, uint64_t) {
    auto entries = proc::current().auxv();
    out.write({reinterpret_cast<const char*>(entries.data()), entries.size_bytes()});
}

void limits(TextSink& out, uint64_t) {
    // As getrlimit reports them (kernel/sys/proc.cc): only the stack and open files are
    // limited.
    struct Row {
        std::string_view name, soft, hard, units;
    };
    constexpr Row kRows[] = {
        {"Max cpu time", "unlimited", "unlimited", "seconds"},
        {"Max file size", "unlimited", "unlimited", "bytes"},
        {"Max data size", "unlimited", "unlimited", "bytes"},
        {"Max stack size", "8388608", "unlimited", "bytes"},
        {"Max core file size", "unlimited", "unlimited", "bytes"},
        {"Max resident set", "unlimited", "unlimited", "bytes"},
        {"Max processes", "unlimited", "unlimited", "processes"},
        {"Max open files", "1024", "1024", "files"},
        {"Max locked memory", "unlimited", "unlimited", "bytes"},
        {"Max address space", "unlimited", "unlimited", "bytes"},
        {"Max file locks", "unlimited", "unlimited", "locks"},
        {"Max pending signals", "unlimited", "unlimited", "signals"},
        {"Max msgqueue size", "unlimited", "unlimited", "bytes"},
        {"Max nice priority", "unlimited", "unlimited", ""},
        {"Max realtime priority", "unlimited", "unlimited", ""},
        {"Max realtime timeout", "unlimited", "unlimited", "us"},
    };
    static_assert(kStackLimit == 8388608 && proc::FdTable::kMaxFds == 1024,
                  "the limits table says otherwise");
    lib::format_to(out, "{:<25} {:<20} {:<20} {:<10}\n", "Limit", "Soft Limit", "Hard Limit",
                   "Units");
    for (const Row& row : kRows)
        lib::format_to(out, "{:<25} {:<20} {:<20} {:<10}\n", row.name, row.soft, row.hard,
                       row.units);
}

}  // namespace kernel::fs::procfs
