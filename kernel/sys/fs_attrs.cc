// Syscalls that change a file's attributes or size, or report on its filesystem: chmod,
// chown and utimes families, truncate/ftruncate, fallocate, statfs/fstatfs, and the sync
// calls (everything lives in memory or on a read-only disk: nothing to flush). The program
// runs as root, so permission checks never refuse it; owners are stored as given.
#include "kernel/fs/inode_file.h"
#include "kernel/fs/vfs.h"
#include "kernel/proc/process.h"
#include "kernel/sys/fs_path.h"
#include "kernel/sys/handlers.h"

namespace kernel::sys {

namespace {

constexpr int64_t kUtimeNow = (1 << 30) - 1, kUtimeOmit = (1 << 30) - 2;
constexpr int kFallocKeepSize = 1;
constexpr uint64_t kTmpfsMagic = 0x01021994;
constexpr uint64_t kNameMax = 255;

// The VFS file behind `fd`, or nullptr for one that has no inode (the console).
lib::Result<fs::InodeFile*> inode_file(int fd) {
    fs::File* file = TRY(proc::current().fds().get(fd));
    return file->as_inode_file();
}

lib::Result<fs::Inode*> path_inode(UserIn<char> user_path, bool follow) {
    UserPath path;
    TRY(path.copy(user_path));
    return resolve_at(kAtFdCwd, path.view(), follow);
}

SyscallResult change_mode(fs::Inode& inode, uint32_t mode) {
    if (inode.is_symlink()) return lib::Errno::OpNotSupp;  // Linux: a link's mode is fixed
    TRY(inode.set_mode(mode & fs::kPermissionMask));
    return 0;
}

// Times as utimensat takes them: nullptr both now; UTIME_NOW, UTIME_OMIT per entry.
struct TimePair {
    fs::Timestamp values[2];
    bool set[2];
};

lib::Result<TimePair> read_timespecs(UserIn<TimeSpec> user_times) {
    TimePair pair{};
    fs::Timestamp now = fs::now();
    for (size_t i = 0; i < 2; ++i) {
        TimeSpec spec{0, kUtimeNow};
        if (!user_times.is_null()) TRY(mm::copy_from_user(spec, user_times.offset(i)));
        if (spec.nanoseconds == kUtimeOmit) continue;
        if (spec.nanoseconds == kUtimeNow) {
            pair.values[i] = now;
        } else {
            if (spec.nanoseconds < 0 || spec.nanoseconds >= 1000000000) return lib::Errno::Inval;
            pair.values[i] = {spec.seconds, uint32_t(spec.nanoseconds)};
        }
        pair.set[i] = true;
    }
    return pair;
}

lib::Result<TimePair> read_timevals(UserIn<TimeVal> user_times) {
    TimePair pair{};
    fs::Timestamp now = fs::now();
    for (size_t i = 0; i < 2; ++i) {
        pair.values[i] = now;
        if (!user_times.is_null()) {
            TimeVal value;
            TRY(mm::copy_from_user(value, user_times.offset(i)));
            if (value.microseconds < 0 || value.microseconds >= 1000000) return lib::Errno::Inval;
            pair.values[i] = {value.seconds, uint32_t(value.microseconds * 1000)};
        }
        pair.set[i] = true;
    }
    return pair;
}

// The inode the utimes family names: the fd itself when there is no path (futimens).
SyscallResult set_times_at(int dirfd, UserIn<char> user_path, int flags, const TimePair& times) {
    if (!times.set[0] && !times.set[1]) return 0;
    fs::InodeRef inode;
    if (user_path.is_null()) {
        if (dirfd == kAtFdCwd) return lib::Errno::Fault;
        fs::InodeFile* file = TRY(inode_file(dirfd));
        if (!file) return 0;  // the console: nothing to keep the times in
        file->inode().retain();
        inode = fs::InodeRef(&file->inode());
    } else {
        UserPath path;
        TRY(path.copy(user_path));
        inode = fs::InodeRef(TRY(inode_at(dirfd, path, flags)));
    }
    TRY(inode->set_times(times.set[0] ? &times.values[0] : nullptr,
                         times.set[1] ? &times.values[1] : nullptr));
    return 0;
}

SyscallResult truncate_inode(fs::Inode& inode, int64_t length) {
    if (length < 0) return lib::Errno::Inval;
    if (inode.is_directory()) return lib::Errno::IsDir;
    if (!inode.is_regular()) return lib::Errno::Inval;
    TRY(inode.truncate(uint64_t(length)));
    return 0;
}

SyscallResult statfs_to_user(const fs::FsStats& stats, uint64_t dev, UserOut<LinuxStatfs> out) {
    LinuxStatfs st{};
    st.type = int64_t(stats.type);
    st.bsize = int64_t(stats.block_size);
    st.blocks = stats.blocks;
    st.bfree = stats.blocks_free;
    st.bavail = stats.blocks_available;
    st.files = stats.files;
    st.ffree = stats.files_free;
    st.fsid[0] = int32_t(dev);
    st.namelen = int64_t(kNameMax);
    st.frsize = int64_t(stats.block_size);
    st.flags = int64_t(stats.flags);
    TRY(mm::copy_to_user(out, st));
    return 0;
}

SyscallResult statfs_of(fs::Inode& inode, UserOut<LinuxStatfs> out) {
    fs::FsStats stats = TRY(inode.statfs());
    LinuxStat st;
    TRY(inode.stat(st));
    return statfs_to_user(stats, st.dev, out);
}

}  // namespace

SyscallResult sys_chmod(UserIn<char> path, uint32_t mode) {
    fs::InodeRef inode(TRY(path_inode(path, true)));
    return change_mode(*inode.get(), mode);
}

SyscallResult sys_fchmod(int fd, uint32_t mode) {
    fs::InodeFile* file = TRY(inode_file(fd));
    if (!file) return 0;
    if (file->status_flags() & fs::InodeFile::kPath) return lib::Errno::BadF;
    return change_mode(file->inode(), mode);
}

SyscallResult sys_fchmodat(int dirfd, UserIn<char> user_path, uint32_t mode) {
    UserPath path;
    TRY(path.copy(user_path));
    fs::InodeRef inode(TRY(resolve_at(dirfd, path.view(), true)));
    return change_mode(*inode.get(), mode);
}

SyscallResult sys_chown(UserIn<char> path, uint32_t uid, uint32_t gid) {
    fs::InodeRef inode(TRY(path_inode(path, true)));
    TRY(inode->set_owner(uid, gid));
    return 0;
}

SyscallResult sys_lchown(UserIn<char> path, uint32_t uid, uint32_t gid) {
    fs::InodeRef inode(TRY(path_inode(path, false)));
    TRY(inode->set_owner(uid, gid));
    return 0;
}

SyscallResult sys_fchown(int fd, uint32_t uid, uint32_t gid) {
    fs::InodeFile* file = TRY(inode_file(fd));
    if (!file) return 0;
    if (file->status_flags() & fs::InodeFile::kPath) return lib::Errno::BadF;
    TRY(file->inode().set_owner(uid, gid));
    return 0;
}

SyscallResult sys_fchownat(int dirfd, UserIn<char> user_path, uint32_t uid, uint32_t gid,
                           int flags) {
    if (flags & ~(kAtSymlinkNoFollow | kAtEmptyPath)) return lib::Errno::Inval;
    UserPath path;
    TRY(path.copy(user_path));
    if (path.empty() && (flags & kAtEmptyPath) && dirfd != kAtFdCwd && !TRY(inode_file(dirfd)))
        return 0;
    fs::InodeRef inode(TRY(inode_at(dirfd, path, flags)));
    TRY(inode->set_owner(uid, gid));
    return 0;
}

SyscallResult sys_utimensat(int dirfd, UserIn<char> path, UserIn<TimeSpec> times, int flags) {
    if (flags & ~(kAtSymlinkNoFollow | kAtEmptyPath)) return lib::Errno::Inval;
    TimePair pair = TRY(read_timespecs(times));
    return set_times_at(dirfd, path, flags, pair);
}

SyscallResult sys_futimesat(int dirfd, UserIn<char> path, UserIn<TimeVal> times) {
    TimePair pair = TRY(read_timevals(times));
    return set_times_at(dirfd, path, 0, pair);
}

SyscallResult sys_utimes(UserIn<char> path, UserIn<TimeVal> times) {
    if (path.is_null()) return lib::Errno::Fault;
    return sys_futimesat(kAtFdCwd, path, times);
}

SyscallResult sys_utime(UserIn<char> path, UserIn<UtimBuf> times) {
    if (path.is_null()) return lib::Errno::Fault;
    TimePair pair{};
    fs::Timestamp now = fs::now();
    pair.values[0] = pair.values[1] = now;
    if (!times.is_null()) {
        UtimBuf buffer;
        TRY(mm::copy_from_user(buffer, times));
        pair.values[0] = {buffer.actime, 0};
        pair.values[1] = {buffer.modtime, 0};
    }
    pair.set[0] = pair.set[1] = true;
    return set_times_at(kAtFdCwd, path, 0, pair);
}

SyscallResult sys_truncate(UserIn<char> path, int64_t length) {
    fs::InodeRef inode(TRY(path_inode(path, true)));
    return truncate_inode(*inode.get(), length);
}

SyscallResult sys_ftruncate(int fd, int64_t length) {
    fs::InodeFile* file = TRY(inode_file(fd));
    if (file && (file->status_flags() & fs::InodeFile::kPath)) return lib::Errno::BadF;
    if (!file || !file->writable()) return lib::Errno::Inval;  // ftruncate(2): not open for writing
    return truncate_inode(file->inode(), length);
}

SyscallResult sys_fallocate(int fd, int mode, int64_t offset, int64_t length) {
    fs::InodeFile* file = TRY(inode_file(fd));
    if (offset < 0 || length <= 0) return lib::Errno::Inval;
    if (!file) return lib::Errno::NoDev;
    if (!file->writable()) return lib::Errno::BadF;
    fs::Inode& inode = file->inode();
    if (inode.is_directory()) return lib::Errno::IsDir;
    if (!inode.is_regular()) return lib::Errno::NoDev;
    if (mode == kFallocKeepSize) return 0;  // space is taken when written, as memory is
    if (mode != 0) return lib::Errno::OpNotSupp;
    int64_t end;
    if (__builtin_add_overflow(offset, length, &end)) return lib::Errno::FBig;
    // Mode 0 only extends: the new range reads as zeros (holes; pages come on first write).
    if (uint64_t(end) > inode.size()) TRY(inode.truncate(uint64_t(end)));
    return 0;
}

SyscallResult sys_statfs(UserIn<char> path, UserOut<LinuxStatfs> out) {
    fs::InodeRef inode(TRY(path_inode(path, true)));
    return statfs_of(*inode.get(), out);
}

SyscallResult sys_fstatfs(int fd, UserOut<LinuxStatfs> out) {
    fs::InodeFile* file = TRY(inode_file(fd));
    if (!file) {  // the console: what a tty under devtmpfs reports
        fs::FsStats stats{};
        stats.type = kTmpfsMagic;
        stats.block_size = 4096;
        stats.flags = 0x20;
        return statfs_to_user(stats, 5, out);
    }
    return statfs_of(file->inode(), out);
}

SyscallResult sys_fsync(int fd) {
    if (!TRY(inode_file(fd))) return lib::Errno::Inval;  // a tty cannot be synced
    return 0;
}

SyscallResult sys_fdatasync(int fd) { return sys_fsync(fd); }

SyscallResult sys_syncfs(int fd) {
    TRY(proc::current().fds().get(fd));
    return 0;
}

SyscallResult sys_sync() { return 0; }

}  // namespace kernel::sys
