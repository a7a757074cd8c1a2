// Syscalls about the process itself: exit, identity, TLS, limits, affinity, uname,
// getrandom. A Phoenix VM runs one process (pid 1) as root.
#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/proc/process.h"
#include "kernel/random/random.h"
#include "kernel/sys/handlers.h"

namespace kernel::sys {

namespace {

// arch_prctl codes (asm/prctl.h).
constexpr int kArchSetGs = 0x1001;
constexpr int kArchSetFs = 0x1002;
constexpr int kArchGetFs = 0x1003;
constexpr int kArchGetGs = 0x1004;

// RLIMIT_* (asm-generic/resource.h).
constexpr int kRlimitStack = 3;
constexpr int kRlimitNofile = 7;
constexpr int kRlimitCount = 16;
constexpr uint64_t kInfinity = ~uint64_t(0);

RLimit limit_for(int resource) {
    switch (resource) {
        case kRlimitStack:
            return {8ull << 20, kInfinity};
        case kRlimitNofile:
            return {proc::FdTable::kMaxFds, proc::FdTable::kMaxFds};
        default:
            return {kInfinity, kInfinity};
    }
}

void copy_field(char (&field)[65], const char* text) {
    size_t i = 0;
    for (; text[i] && i < 64; ++i) field[i] = text[i];
    field[i] = '\0';
}

}  // namespace

SyscallResult sys_getpid() { return proc::current().pid(); }
SyscallResult sys_getppid() { return 0; }
SyscallResult sys_getuid() { return 0; }
SyscallResult sys_geteuid() { return 0; }
SyscallResult sys_getgid() { return 0; }
SyscallResult sys_getegid() { return 0; }

// Restartable sequences are optional for libc (glibc falls back when ENOSYS): not offered.
SyscallResult sys_rseq(uint64_t, uint32_t, int, uint32_t) { return lib::Errno::NoSys; }

SyscallResult sys_arch_prctl(int code, uint64_t address) {
    switch (code) {
        case kArchSetFs:
        case kArchSetGs:
            if (address >= arch::kUserEnd) return lib::Errno::Perm;
            // In the kernel, the user's GS base waits in KERNEL_GS_BASE until swapgs.
            arch::wrmsr(code == kArchSetFs ? arch::kMsrFsBase : arch::kMsrKernelGsBase, address);
            return 0;
        case kArchGetFs:
        case kArchGetGs: {
            uint64_t value =
                arch::rdmsr(code == kArchGetFs ? arch::kMsrFsBase : arch::kMsrKernelGsBase);
            TRY(mm::copy_to_user(UserOut<uint64_t>(address), value));
            return 0;
        }
        default:
            return lib::Errno::Inval;
    }
}

SyscallResult sys_prlimit64(int pid, int resource, UserIn<RLimit> new_limit,
                            UserOut<RLimit> old_limit) {
    if (pid != 0 && pid != proc::current().pid()) return lib::Errno::Srch;
    if (resource < 0 || resource >= kRlimitCount) return lib::Errno::Inval;
    if (!new_limit.is_null()) {
        RLimit requested;
        TRY(mm::copy_from_user(requested, new_limit));
        if (requested.current > requested.maximum) return lib::Errno::Inval;
        // FIXME(#5): limits are fixed for now; a lower request is accepted but not enforced.
    }
    if (!old_limit.is_null()) TRY(mm::copy_to_user(old_limit, limit_for(resource)));
    return 0;
}

SyscallResult sys_getrlimit(int resource, UserOut<RLimit> out) {
    return sys_prlimit64(0, resource, UserIn<RLimit>(), out);
}

SyscallResult sys_sched_getaffinity(int pid, uint64_t size, UserOut<uint8_t> mask) {
    if (pid != 0 && pid != proc::current().pid()) return lib::Errno::Srch;
    // The kernel's cpumask is 8 bytes at least (Linux checks size against nr_cpu_ids).
    if (size < 8 || size % 8) return lib::Errno::Inval;
    uint64_t cpus = 1;  // one vCPU
    TRY(mm::copy_to_user(UserOut<uint64_t>(mask.address()), cpus));
    return 8;
}


SyscallResult sys_uname(UserOut<UtsName> out) {
    UtsName name{};
    copy_field(name.sysname, "Linux");
    copy_field(name.nodename, "phoenix");
    // glibc refuses kernels older than its minimum: report a modern version.
    copy_field(name.release, "6.1.0-phoenix");
    copy_field(name.version, "#1 SMP Phoenix");
    copy_field(name.machine, "x86_64");
    copy_field(name.domainname, "(none)");
    TRY(mm::copy_to_user(out, name));
    return 0;
}

SyscallResult sys_getrandom(UserOut<uint8_t> buffer, uint64_t count, uint32_t flags) {
    constexpr uint32_t kKnownFlags = 0x1 | 0x2 | 0x4;  // GRND_NONBLOCK, GRND_RANDOM, GRND_INSECURE
    if (flags & ~kKnownFlags) return lib::Errno::Inval;
    if (count > 33554431) count = 33554431;  // Linux's per-call cap
    std::byte chunk[256];
    uint64_t done = 0;
    while (done < count) {
        size_t n = count - done < sizeof(chunk) ? count - done : sizeof(chunk);
        random::fill({chunk, n});
        auto copied = mm::copy_to_user_bytes(buffer.address() + done, chunk, n);
        if (copied.is_error()) {
            if (done) break;
            return copied.error();
        }
        done += n;
    }
    return int64_t(done);
}

}  // namespace kernel::sys
