// Path-based syscalls and directory reads over the VFS: open/openat/creat (O_CREAT, O_EXCL,
// O_TRUNC; O_TMPFILE is EOPNOTSUPP), stat/lstat/newfstatat/statx, access/faccessat,
// readlink(at), getdents64, getcwd, chdir/fchdir, umask. Opening keeps the path the lookup
// walked to (symlinks resolved) with the description, and chdir keeps it as the cwd's.
// Calls that change names or attributes are in fs_names.cc and fs_attrs.cc.
#include "kernel/fs/inode_file.h"
#include "kernel/fs/vfs.h"
#include "kernel/mm/heap.h"
#include "kernel/proc/process.h"
#include "kernel/sys/fs_path.h"
#include "kernel/sys/handlers.h"

namespace kernel::sys {

namespace {

constexpr int kAccessMode = 03, kWriteOnly = 01, kReadWrite = 02;
constexpr int kOCreat = 0100, kOExcl = 0200, kONoCtty = 0400, kOTrunc = 01000,
              kODirectory = 0200000, kONoFollow = 0400000, kOCloexec = 02000000, kOPath = 010000000,
              kOTmpfile = 020000000;
constexpr int kAtEaccess = 0x200;
constexpr int kXOk = 1, kWOk = 2, kROk = 4;

// O_CREAT found nothing: a new regular file in the directory holding the last component.
// `trace` ends as the new file's path.
lib::Result<fs::Inode*> create_at(int dirfd, std::string_view path, uint32_t mode,
                                  fs::PathTrace& trace) {
    fs::ParentPath parent = TRY(parent_at(dirfd, path, &trace));
    fs::InodeRef directory(parent.directory);
    if (parent.trailing_slash || parent.last.empty() || parent.last == "." || parent.last == "..")
        return lib::Errno::IsDir;
    trace.enter(parent.last);
    return directory->create(parent.last, mode & ~proc::current().umask & fs::kPermissionMask);
}

SyscallResult do_openat(int dirfd, UserIn<char> user_path, int flags, uint32_t mode) {
    UserPath path;
    TRY(path.copy(user_path));
    if ((flags & kOTmpfile) == kOTmpfile) return lib::Errno::OpNotSupp;
    bool path_only = flags & kOPath;
    bool writes = !path_only && ((flags & kAccessMode) == kWriteOnly ||
                                 (flags & kAccessMode) == kReadWrite || (flags & kOTrunc));
    bool exclusive = (flags & kOCreat) && (flags & kOExcl) && !path_only;
    fs::PathTrace trace;
    // O_EXCL: a symlink in last place counts as existing; it is not followed.
    auto found = resolve_at(dirfd, path.view(), !(flags & kONoFollow) && !exclusive, &trace);
    fs::InodeRef inode;
    if (found.has_value()) {
        inode = fs::InodeRef(found.value());
        if (exclusive) return lib::Errno::Exist;
        if (inode->is_symlink() && !path_only) return lib::Errno::Loop;  // O_NOFOLLOW on a link
        if (inode->is_socket() && !path_only) return lib::Errno::NxIo;   // as Linux: no open()
        if ((flags & kODirectory) && !inode->is_directory()) return lib::Errno::NotDir;
        if (inode->is_directory() && (writes || ((flags & kOCreat) && !path_only)))
            return lib::Errno::IsDir;
        if (writes) {
            bool truncating = (flags & kOTrunc) && inode->is_regular();
            TRY(inode->open_for_write(truncating));
            if (truncating) TRY(inode->truncate(0));
        }
    } else if (found.error() == lib::Errno::NoEnt && (flags & kOCreat) && !path_only) {
        if (flags & kODirectory) return lib::Errno::Inval;  // Linux 6.4+: O_CREAT | O_DIRECTORY
        inode = fs::InodeRef(TRY(create_at(dirfd, path.view(), mode, trace)));
    } else {
        return found.error();
    }
    int kept = flags & ~(kOCreat | kOExcl | kONoCtty | kOTrunc | kOCloexec);
    std::string_view opened_path = trace.ok() ? trace.view() : path.view();
    fs::File* file;
    if (path_only) {
        inode->retain();
        file = TRY(fs::InodeFile::create(fs::InodeRef(inode.get()), kept, opened_path));
    } else {
        file = TRY(inode->open(kept, opened_path));
    }
    auto fd = proc::current().fds().install(file, 0, flags & kOCloexec);
    if (fd.is_error()) {
        file->release();
        return fd.error();
    }
    return fd.value();
}

SyscallResult do_access(int dirfd, UserIn<char> user_path, int mode, int flags) {
    if (mode & ~(kROk | kWOk | kXOk)) return lib::Errno::Inval;
    if (flags & ~(kAtSymlinkNoFollow | kAtEaccess | kAtEmptyPath)) return lib::Errno::Inval;
    UserPath path;
    TRY(path.copy(user_path));
    fs::InodeRef inode(TRY(inode_at(dirfd, path, flags)));
    if ((mode & kWOk) && !inode->writable()) return lib::Errno::ReadOnlyFs;
    // The program runs as root: only execute permission can be missing (any x bit suffices).
    if ((mode & kXOk) && !inode->is_directory() && !(inode->mode() & 0111))
        return lib::Errno::Access;
    return 0;
}

SyscallResult do_readlinkat(int dirfd, UserIn<char> user_path, UserOut<char> buffer,
                            uint64_t size) {
    UserPath path;
    TRY(path.copy(user_path));
    if (int64_t(size) <= 0) return lib::Errno::Inval;
    fs::InodeRef inode(TRY(resolve_at(dirfd, path.view(), false)));
    if (!inode->is_symlink()) return lib::Errno::Inval;
    char target[fs::kPathMax];
    size_t length = TRY(inode->read_link({target, sizeof(target)}));
    size_t n = length < size ? length : size;  // readlink does not NUL-terminate
    TRY(mm::copy_to_user_bytes(buffer.address(), target, n));
    return int64_t(n);
}

SyscallResult stat_to_user(fs::Inode& inode, UserOut<LinuxStat> out) {
    LinuxStat st;
    TRY(inode.stat(st));
    TRY(mm::copy_to_user(out, st));
    return 0;
}

}  // namespace

SyscallResult sys_open(UserIn<char> path, int flags, uint32_t mode) {
    return do_openat(kAtFdCwd, path, flags, mode);
}

SyscallResult sys_openat(int dirfd, UserIn<char> path, int flags, uint32_t mode) {
    return do_openat(dirfd, path, flags, mode);
}

SyscallResult sys_creat(UserIn<char> path, uint32_t mode) {
    return do_openat(kAtFdCwd, path, kOCreat | kWriteOnly | kOTrunc, mode);
}

SyscallResult sys_access(UserIn<char> path, int mode) { return do_access(kAtFdCwd, path, mode, 0); }

SyscallResult sys_faccessat(int dirfd, UserIn<char> path, int mode) {
    return do_access(dirfd, path, mode, 0);
}

SyscallResult sys_faccessat2(int dirfd, UserIn<char> path, int mode, int flags) {
    return do_access(dirfd, path, mode, flags);
}

SyscallResult sys_getcwd(UserOut<char> buffer, uint64_t size) {
    std::string_view cwd = proc::current().cwd_path();
    if (size < cwd.size() + 1) return lib::Errno::Range;
    TRY(mm::copy_to_user_bytes(buffer.address(), cwd.data(), cwd.size()));
    TRY(mm::copy_to_user_bytes(buffer.address() + cwd.size(), "", 1));
    return int64_t(cwd.size() + 1);
}

SyscallResult sys_chdir(UserIn<char> user_path) {
    UserPath path;
    TRY(path.copy(user_path));
    fs::PathTrace trace;
    fs::InodeRef inode(TRY(resolve_at(kAtFdCwd, path.view(), true, &trace)));
    if (!inode->is_directory()) return lib::Errno::NotDir;
    if (!trace.ok()) return lib::Errno::NameTooLong;  // or no memory for the trace
    proc::current().set_cwd(inode.take(), trace.view());
    return 0;
}

SyscallResult sys_fchdir(int fd) {
    fs::File* file = TRY(proc::current().fds().get(fd));
    fs::InodeFile* opened = file->as_inode_file();
    if (!opened || !opened->inode().is_directory()) return lib::Errno::NotDir;
    opened->inode().retain();
    proc::current().set_cwd(&opened->inode(), opened->path());
    return 0;
}

SyscallResult sys_umask(uint32_t mask) {
    uint32_t old = proc::current().umask;
    proc::current().umask = mask & 0777;
    return old;
}

SyscallResult sys_readlinkat(int dirfd, UserIn<char> path, UserOut<char> buffer, uint64_t size) {
    return do_readlinkat(dirfd, path, buffer, size);
}

SyscallResult sys_readlink(UserIn<char> path, UserOut<char> buffer, uint64_t size) {
    return do_readlinkat(kAtFdCwd, path, buffer, size);
}

SyscallResult sys_stat(UserIn<char> path, UserOut<LinuxStat> out) {
    return sys_newfstatat(kAtFdCwd, path, out, 0);
}

SyscallResult sys_lstat(UserIn<char> path, UserOut<LinuxStat> out) {
    return sys_newfstatat(kAtFdCwd, path, out, kAtSymlinkNoFollow);
}

SyscallResult sys_newfstatat(int dirfd, UserIn<char> user_path, UserOut<LinuxStat> out, int flags) {
    if (flags & ~(kAtSymlinkNoFollow | kAtEmptyPath | 0x800 /* AT_NO_AUTOMOUNT */))
        return lib::Errno::Inval;
    UserPath path;
    TRY(path.copy(user_path));
    if (path.empty() && (flags & kAtEmptyPath) && dirfd != kAtFdCwd) {
        fs::File* file = TRY(proc::current().fds().get(dirfd));
        if (!file->as_inode_file()) return sys_fstat(dirfd, out);  // the console
    }
    fs::InodeRef inode(TRY(inode_at(dirfd, path, flags)));
    return stat_to_user(*inode.get(), out);
}

SyscallResult sys_statx(int dirfd, UserIn<char> user_path, int flags, uint32_t,
                        UserOut<Statx> out) {
    UserPath path;
    TRY(path.copy(user_path));
    LinuxStat st;
    if (path.empty() && (flags & kAtEmptyPath) && dirfd != kAtFdCwd &&
        !TRY(proc::current().fds().get(dirfd))->as_inode_file()) {
        TRY(TRY(proc::current().fds().get(dirfd))->stat(st));
    } else {
        fs::InodeRef inode(TRY(inode_at(dirfd, path, flags)));
        TRY(inode->stat(st));
    }
    Statx x{};
    x.mask = kStatxBasicStats;
    x.blksize = uint32_t(st.blksize);
    x.nlink = uint32_t(st.nlink);
    x.uid = st.uid;
    x.gid = st.gid;
    x.mode = uint16_t(st.mode);
    x.ino = st.ino;
    x.size = uint64_t(st.size);
    x.blocks = uint64_t(st.blocks);
    x.atime = {int64_t(st.atime), uint32_t(st.atime_nsec), 0};
    x.mtime = {int64_t(st.mtime), uint32_t(st.mtime_nsec), 0};
    x.ctime = {int64_t(st.ctime), uint32_t(st.ctime_nsec), 0};
    x.rdev_major = uint32_t((st.rdev >> 8) & 0xfff);
    x.rdev_minor = uint32_t((st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00));
    x.dev_major = uint32_t((st.dev >> 8) & 0xfff);
    x.dev_minor = uint32_t((st.dev & 0xff) | ((st.dev >> 12) & 0xfff00));
    TRY(mm::copy_to_user(out, x));
    return 0;
}

SyscallResult sys_getdents64(int fd, UserOut<uint8_t> buffer, uint64_t size) {
    fs::File* file = TRY(proc::current().fds().get(fd));
    fs::InodeFile* dir = file->as_inode_file();
    if (!dir || !dir->inode().is_directory()) return lib::Errno::NotDir;
    if (!mm::user_range_ok(buffer.address(), size)) return lib::Errno::Fault;
    auto* entry = static_cast<fs::DirEntry*>(mm::kmalloc(sizeof(fs::DirEntry)));
    if (!entry) return lib::Errno::NoMem;
    uint64_t used = 0;
    lib::Errno error{};
    bool failed = false;
    for (;;) {
        auto more = dir->next_entry(*entry);
        if (more.is_error()) {
            error = more.error();
            failed = used == 0;
            break;
        }
        if (!more.value()) break;
        // struct linux_dirent64: ino, off, reclen, type, name + NUL, padded to 8.
        uint64_t reclen = (19 + uint64_t(entry->name_length) + 1 + 7) & ~uint64_t(7);
        if (used + reclen > size) {
            dir->unread_entry();
            if (used == 0) {
                error = lib::Errno::Inval;  // the buffer cannot hold even one entry
                failed = true;
            }
            break;
        }
        uint8_t record[19 + 256 + 8] = {};
        uint64_t ino = entry->ino;
        int64_t next = TRY(file->seek(0, 1));  // the cookie after this entry: its d_off
        uint16_t length = uint16_t(reclen);
        __builtin_memcpy(record, &ino, 8);
        __builtin_memcpy(record + 8, &next, 8);
        __builtin_memcpy(record + 16, &length, 2);
        record[18] = entry->type;
        __builtin_memcpy(record + 19, entry->name, entry->name_length);
        auto copied = mm::copy_to_user_bytes(buffer.address() + used, record, size_t(reclen));
        if (copied.is_error()) {
            error = copied.error();
            failed = true;
            break;
        }
        used += reclen;
    }
    mm::kfree(entry);
    if (failed) return error;
    return int64_t(used);
}

}  // namespace kernel::sys
