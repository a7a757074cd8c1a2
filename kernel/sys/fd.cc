// Syscalls on file descriptors: read/write and their vectored forms, close, lseek, ioctl,
// fstat. Data moves through a bounded kernel bounce buffer so a huge count costs no memory.
#include "kernel/proc/process.h"
#include "kernel/sys/handlers.h"

namespace kernel::sys {

namespace {

constexpr size_t kBounceSize = 4096;
constexpr int kIovMax = 1024;  // Linux's UIO_MAXIOV

// Linux clamps a single transfer to MAX_RW_COUNT (INT_MAX rounded down to a page).
constexpr uint64_t kMaxRwCount = 0x7ffff000;

lib::Result<size_t> write_from_user(fs::File& file, uint64_t address, uint64_t count) {
    char bounce[kBounceSize];
    size_t done = 0;
    if (count > kMaxRwCount) count = kMaxRwCount;
    while (done < count) {
        size_t chunk = count - done < kBounceSize ? count - done : kBounceSize;
        auto copied = mm::copy_from_user_bytes(bounce, address + done, chunk);
        if (copied.is_error()) {
            if (done) break;  // a partial write reports what got through
            return copied.error();
        }
        size_t written = TRY(file.write({bounce, chunk}));
        done += written;
        if (written < chunk) break;
    }
    return done;
}

lib::Result<size_t> read_to_user(fs::File& file, uint64_t address, uint64_t count) {
    char bounce[kBounceSize];
    if (count > kBounceSize) count = kBounceSize;  // a short read is always allowed
    if (!mm::user_range_ok(address, count)) return lib::Errno::Fault;
    size_t got = TRY(file.read({bounce, count}));
    TRY(mm::copy_to_user_bytes(address, bounce, got));
    return got;
}

template <typename Transfer>
SyscallResult vectored(int fd, UserIn<IoVec> iov, int count, Transfer transfer) {
    fs::File* file = TRY(proc::current().fds().get(fd));
    if (count < 0 || count > kIovMax) return lib::Errno::Inval;
    uint64_t total = 0;
    for (int i = 0; i < count; ++i) {
        IoVec vec;
        TRY(mm::copy_from_user(vec, iov.offset(size_t(i))));
        if (vec.length > kMaxRwCount - total) vec.length = kMaxRwCount - total;
        if (vec.length == 0) continue;
        auto moved = transfer(*file, vec.base, vec.length);
        if (moved.is_error()) {
            if (total) break;
            return moved.error();
        }
        total += moved.value();
        if (moved.value() < vec.length || total >= kMaxRwCount) break;
    }
    return int64_t(total);
}

}  // namespace

SyscallResult sys_read(int fd, UserOut<char> buffer, uint64_t count) {
    fs::File* file = TRY(proc::current().fds().get(fd));
    return int64_t(TRY(read_to_user(*file, buffer.address(), count)));
}

SyscallResult sys_write(int fd, UserIn<char> buffer, uint64_t count) {
    fs::File* file = TRY(proc::current().fds().get(fd));
    return int64_t(TRY(write_from_user(*file, buffer.address(), count)));
}

SyscallResult sys_readv(int fd, UserIn<IoVec> iov, int count) {
    return vectored(fd, iov, count, read_to_user);
}

SyscallResult sys_writev(int fd, UserIn<IoVec> iov, int count) {
    return vectored(fd, iov, count, write_from_user);
}

SyscallResult sys_close(int fd) {
    TRY(proc::current().fds().close(fd));
    return 0;
}

SyscallResult sys_lseek(int fd, int64_t offset, int whence) {
    fs::File* file = TRY(proc::current().fds().get(fd));
    return file->seek(offset, whence);
}

SyscallResult sys_ioctl(int fd, uint32_t request, uint64_t argument) {
    fs::File* file = TRY(proc::current().fds().get(fd));
    return file->ioctl(request, argument);
}

SyscallResult sys_fstat(int fd, UserOut<LinuxStat> out) {
    fs::File* file = TRY(proc::current().fds().get(fd));
    LinuxStat st;
    TRY(file->stat(st));
    TRY(mm::copy_to_user(out, st));
    return 0;
}

SyscallResult sys_newfstatat(int dirfd, UserIn<char> path, UserOut<LinuxStat> out, int flags) {
    char first;
    TRY(mm::copy_from_user(first, path));
    if (first == '\0') {
        if (!(flags & kAtEmptyPath)) return lib::Errno::NoEnt;
        return sys_fstat(dirfd, out);
    }
    // FIXME(#4): path lookup once the VFS exists; there are no files yet.
    return lib::Errno::NoEnt;
}

}  // namespace kernel::sys
