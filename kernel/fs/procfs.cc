// The /proc tree: which names exist and what generates each. One process runs, as pid 1;
// "self" links to it.
#include "kernel/fs/procfs.h"

#include "kernel/fs/procfs_files.h"
#include "kernel/fs/pseudo_fs.h"
#include "kernel/proc/process.h"

namespace kernel::fs {

namespace {

constexpr uint64_t kProcDev = 0x16;      // 0:22
constexpr uint64_t kProcMagic = 0x9fa0;  // PROC_SUPER_MAGIC

// What the open fds link to; the entries of /proc/1/fd are the fds open when it is read.
uint64_t next_open_fd(uint64_t from) {
    for (uint64_t fd = from; fd < uint64_t(proc::FdTable::kMaxFds); ++fd)
        if (proc::current().fds().get(int(fd)).has_value()) return fd;
    return kNoNumber;
}

void fd_target(lib::FormatSink& out, uint64_t fd) {
    auto file = proc::current().fds().get(int(fd));
    if (file.has_value()) file.value()->describe(out);
}

constexpr PseudoNode file(std::string_view name, FileGenerator generate) {
    return {.name = name, .kind = PseudoKind::File, .file = generate};
}

constexpr PseudoNode link(std::string_view name, LinkGenerator generate) {
    return {.name = name, .kind = PseudoKind::Link, .permissions = 0777, .link = generate};
}

constexpr PseudoNode directory(std::string_view name, std::span<const PseudoNode> children) {
    return {.name = name, .kind = PseudoKind::Directory, .permissions = 0555, .children = children};
}

// A file holding one line of fixed text (a macro: each needs a generator of its own).
#define PHX_FIXED_FILE(name, text) file(name, [](TextSink& out, uint64_t) { out.write(text "\n"); })

constexpr PseudoNode kFdEntry[] = {link("fd", fd_target)};

constexpr PseudoNode kPidEntries[] = {
    link("exe", [](lib::FormatSink& out, uint64_t) { out.write(proc::current().exe_path()); }),
    link("cwd", [](lib::FormatSink& out, uint64_t) { out.write(proc::current().cwd_path()); }),
    link("root", [](lib::FormatSink& out, uint64_t) { out.write("/"); }),
    {.name = "fd",
     .kind = PseudoKind::Numbered,
     .permissions = 0500,
     .children = kFdEntry,
     .scan = next_open_fd},
    file("maps", procfs::maps),
    file("status", procfs::status),
    file("stat", procfs::stat),
    file("statm", procfs::statm),
    file("cmdline", procfs::cmdline),
    file("environ", procfs::environ),
    file("comm", procfs::comm),
    file("limits", procfs::limits),
    file("auxv", procfs::auxv),
    file("mounts", [](TextSink& out, uint64_t) { format_mounts(out, false); }),
    file("mountinfo", [](TextSink& out, uint64_t) { format_mounts(out, true); }),
    PHX_FIXED_FILE("cgroup", "0::/"),  // the root of the cgroup v2 hierarchy
    PHX_FIXED_FILE("oom_score_adj", "0"),
};

constexpr PseudoNode kKernelRandom[] = {
    file("boot_id", procfs::boot_id),
    file("uuid", procfs::random_uuid),
    PHX_FIXED_FILE("entropy_avail", "256"),
    PHX_FIXED_FILE("poolsize", "256"),
};

// The same names uname(2) reports (kernel/sys/proc.cc).
// clang-format off
constexpr PseudoNode kSysKernel[] = {
    PHX_FIXED_FILE("ostype", "Linux"),
    PHX_FIXED_FILE("osrelease", "6.1.0-phoenix"),
    PHX_FIXED_FILE("version", "#1 SMP Phoenix"),
    PHX_FIXED_FILE("hostname", "phoenix"),
    PHX_FIXED_FILE("domainname", "(none)"),
    PHX_FIXED_FILE("pid_max", "32768"),
    file("threads-max", procfs::threads_max),
    PHX_FIXED_FILE("ngroups_max", "65536"),
    directory("random", kKernelRandom),
};
// clang-format on

constexpr PseudoNode kSysVm[] = {
    PHX_FIXED_FILE("overcommit_memory", "0"),
    PHX_FIXED_FILE("max_map_count", "65530"),  // lib/vm's kDefaultMaxAreas
};

constexpr PseudoNode kSysNetCore[] = {PHX_FIXED_FILE("somaxconn", "4096")};
constexpr PseudoNode kSysNet[] = {directory("core", kSysNetCore)};

constexpr PseudoNode kSys[] = {
    directory("kernel", kSysKernel),
    directory("vm", kSysVm),
    directory("net", kSysNet),
};

constexpr PseudoNode kProcEntries[] = {
    link("self", [](lib::FormatSink& out, uint64_t) { out.write("1"); }),
    directory("1", kPidEntries),
    file("cpuinfo", procfs::cpuinfo),
    file("meminfo", procfs::meminfo),
    file("stat", procfs::system_stat),
    file("uptime", procfs::uptime),
    file("loadavg", procfs::loadavg),
    PHX_FIXED_FILE("version", "Linux version 6.1.0-phoenix (phoenix@phoenix) #1 SMP Phoenix"),
    PHX_FIXED_FILE(
        "filesystems",
        "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\toverlay\n\text2"),
    link("mounts", [](lib::FormatSink& out, uint64_t) { out.write("self/mounts"); }),
    directory("sys", kSys),
};

#undef PHX_FIXED_FILE

constexpr PseudoNode kProcRoot = directory("/", kProcEntries);
constexpr PseudoFs kProcfs{kProcDev, kProcMagic, kProcRoot};

}  // namespace

lib::Result<Inode*> make_procfs_root() { return make_pseudo_root(kProcfs); }

}  // namespace kernel::fs
