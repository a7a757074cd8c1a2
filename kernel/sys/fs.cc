// Path-based syscalls. Until disk images land (issue #4) there is no filesystem: every path
// is absent, except the few names the kernel answers itself (/proc/self/exe).
#include "kernel/proc/process.h"
#include "kernel/sys/handlers.h"

namespace kernel::sys {

namespace {

constexpr size_t kPathMax = 4096;

lib::Result<size_t> read_path(char (&buffer)[kPathMax], UserIn<char> path) {
    return mm::copy_string_from_user(buffer, kPathMax - 1, path);
}

bool is_self_exe(const char* path) {
    const char* names[] = {"/proc/self/exe", "/proc/1/exe"};
    for (const char* name : names) {
        size_t i = 0;
        while (name[i] && path[i] == name[i]) ++i;
        if (!name[i] && !path[i]) return true;
    }
    return false;
}

SyscallResult lookup_only(UserIn<char> path) {
    char buffer[kPathMax];
    size_t length = TRY(read_path(buffer, path));
    if (length == 0) return lib::Errno::NoEnt;
    return lib::Errno::NoEnt;  // FIXME(#4): the VFS
}

}  // namespace

SyscallResult sys_open(UserIn<char> path, int, uint32_t) { return lookup_only(path); }

SyscallResult sys_openat(int, UserIn<char> path, int, uint32_t) { return lookup_only(path); }

SyscallResult sys_access(UserIn<char> path, int) { return lookup_only(path); }

SyscallResult sys_faccessat(int, UserIn<char> path, int) { return lookup_only(path); }

SyscallResult sys_faccessat2(int, UserIn<char> path, int, int) { return lookup_only(path); }

SyscallResult sys_getcwd(UserOut<char> buffer, uint64_t size) {
    if (size < 2) return lib::Errno::Range;
    TRY(mm::copy_to_user_bytes(buffer.address(), "/", 2));
    return 2;
}

SyscallResult sys_readlinkat(int, UserIn<char> path, UserOut<char> buffer, uint64_t size) {
    char name[kPathMax];
    TRY(read_path(name, path));
    if (!is_self_exe(name)) return lib::Errno::NoEnt;
    if (int64_t(size) <= 0) return lib::Errno::Inval;
    std::string_view exe = proc::current().exe_path();
    size_t n = exe.size() < size ? exe.size() : size;  // readlink does not NUL-terminate
    TRY(mm::copy_to_user_bytes(buffer.address(), exe.data(), n));
    return int64_t(n);
}

SyscallResult sys_readlink(UserIn<char> path, UserOut<char> buffer, uint64_t size) {
    return sys_readlinkat(kAtFdCwd, path, buffer, size);
}

}  // namespace kernel::sys
