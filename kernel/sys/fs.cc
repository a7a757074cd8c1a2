// Path-based syscalls and directory reads over the VFS: open/openat, stat/lstat/newfstatat/
// statx, access/faccessat, readlink(at), getdents64, getcwd, chdir/fchdir, umask. The root is
// read-only for now: anything that would write to it fails with EROFS (the writable overlay
// is FIXME(#4)). /proc/self/exe is answered here until /proc exists.
#include "kernel/fs/inode_file.h"
#include "kernel/fs/vfs.h"
#include "kernel/mm/heap.h"
#include "kernel/proc/process.h"
#include "kernel/sys/handlers.h"

namespace kernel::sys {

namespace {

constexpr size_t kPathMax = fs::kPathMax;

constexpr int kAccessMode = 03, kWriteOnly = 01, kReadWrite = 02;
constexpr int kOCreat = 0100, kOExcl = 0200, kOTrunc = 01000, kODirectory = 0200000,
              kONoFollow = 0400000, kOCloexec = 02000000, kOPath = 010000000, kOTmpfile = 020000000;
constexpr int kAtSymlinkNoFollow = 0x100, kAtEaccess = 0x200;
constexpr int kXOk = 1, kWOk = 2, kROk = 4;

// A path copied in from the program, NUL-terminated, on the heap (PATH_MAX is too much
// stack for a 32 KiB kernel stack already holding a bounce buffer).
class UserPath {
public:
    UserPath() : m_buffer(static_cast<char*>(mm::kmalloc(kPathMax))) {}
    ~UserPath() { mm::kfree(m_buffer); }
    UserPath(const UserPath&) = delete;
    UserPath& operator=(const UserPath&) = delete;

    lib::ErrorOr copy(UserIn<char> path) {
        if (!m_buffer) return lib::Errno::NoMem;
        m_length = TRY(mm::copy_string_from_user(m_buffer, kPathMax - 1, path));
        return {};
    }
    std::string_view view() const { return {m_buffer, m_length}; }
    bool empty() const { return m_length == 0; }

private:
    char* m_buffer;
    size_t m_length = 0;
};

bool is_self_exe(std::string_view path) { return path == "/proc/self/exe" || path == "/proc/1/exe"; }

// The directory a relative path starts from: the cwd, or dirfd's directory. A new reference.
lib::Result<fs::Inode*> start_directory(int dirfd) {
    if (dirfd == kAtFdCwd) {
        fs::Inode* cwd = proc::current().cwd();
        if (!cwd) return lib::Errno::NoEnt;  // no filesystem at all
        cwd->retain();
        return cwd;
    }
    fs::File* file = TRY(proc::current().fds().get(dirfd));
    fs::InodeFile* opened = file->as_inode_file();
    if (!opened) return lib::Errno::NotDir;
    if (!opened->inode().is_directory()) return lib::Errno::NotDir;
    opened->inode().retain();
    return &opened->inode();
}

lib::Result<fs::Inode*> resolve_at(int dirfd, std::string_view path, bool follow) {
    if (path.empty()) return lib::Errno::NoEnt;
    if (!fs::has_root()) return lib::Errno::NoEnt;
    if (path[0] == '/') return fs::resolve(path, nullptr, follow);
    fs::InodeRef base(TRY(start_directory(dirfd)));
    return fs::resolve(path, base.get(), follow);
}

// The inode behind (dirfd, path) with AT_EMPTY_PATH and AT_SYMLINK_NOFOLLOW honoured.
lib::Result<fs::Inode*> inode_at(int dirfd, const UserPath& path, int flags) {
    if (path.empty()) {
        if (!(flags & kAtEmptyPath)) return lib::Errno::NoEnt;
        if (dirfd == kAtFdCwd) return start_directory(dirfd);
        fs::File* file = TRY(proc::current().fds().get(dirfd));
        fs::InodeFile* opened = file->as_inode_file();
        if (!opened) return lib::Errno::BadF;  // callers handle non-VFS files themselves
        opened->inode().retain();
        return &opened->inode();
    }
    return resolve_at(dirfd, path.view(), !(flags & kAtSymlinkNoFollow));
}

SyscallResult do_openat(int dirfd, UserIn<char> user_path, int flags) {
    UserPath path;
    TRY(path.copy(user_path));
    if ((flags & kOTmpfile) == kOTmpfile) return lib::Errno::OpNotSupp;
    bool writes = (flags & kAccessMode) == kWriteOnly || (flags & kAccessMode) == kReadWrite ||
                  (flags & kOTrunc);
    auto found = resolve_at(dirfd, path.view(), !(flags & kONoFollow));
    if (found.is_error()) {
        // Creating a file needs a writable filesystem.
        if (found.error() == lib::Errno::NoEnt && (flags & kOCreat) && fs::has_root())
            return lib::Errno::ReadOnlyFs;
        return found.error();
    }
    fs::InodeRef inode(found.value());
    if ((flags & kOCreat) && (flags & kOExcl)) return lib::Errno::Exist;
    if (inode->is_symlink()) return lib::Errno::Loop;  // O_NOFOLLOW on a link
    if ((flags & kODirectory) && !inode->is_directory()) return lib::Errno::NotDir;
    if (inode->is_directory() && writes) return lib::Errno::IsDir;
    if (writes && !(flags & kOPath)) return lib::Errno::ReadOnlyFs;
    auto* file = mm::try_make<fs::InodeFile>(inode.get(), flags & ~(kOCreat | kOExcl | kOTrunc | kOCloexec));
    if (!file) return lib::Errno::NoMem;
    inode.take();
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
    if ((mode & kWOk) && !inode->is_symlink()) return lib::Errno::ReadOnlyFs;
    // The program runs as root: only execute permission can be missing (any x bit suffices).
    if ((mode & kXOk) && !inode->is_directory() && !(inode->mode() & 0111)) return lib::Errno::Access;
    return 0;
}

SyscallResult do_readlinkat(int dirfd, UserIn<char> user_path, UserOut<char> buffer, uint64_t size) {
    UserPath path;
    TRY(path.copy(user_path));
    if (int64_t(size) <= 0) return lib::Errno::Inval;
    if (is_self_exe(path.view())) {
        std::string_view exe = proc::current().exe_path();
        size_t n = exe.size() < size ? exe.size() : size;  // readlink does not NUL-terminate
        TRY(mm::copy_to_user_bytes(buffer.address(), exe.data(), n));
        return int64_t(n);
    }
    fs::InodeRef inode(TRY(resolve_at(dirfd, path.view(), false)));
    if (!inode->is_symlink()) return lib::Errno::Inval;
    char target[fs::kPathMax];
    size_t length = TRY(inode->read_link({target, sizeof(target)}));
    size_t n = length < size ? length : size;
    TRY(mm::copy_to_user_bytes(buffer.address(), target, n));
    return int64_t(n);
}

SyscallResult stat_to_user(fs::Inode& inode, UserOut<LinuxStat> out) {
    LinuxStat st;
    TRY(inode.stat(st));
    TRY(mm::copy_to_user(out, st));
    return 0;
}

// "/a/b" + "../c" -> "/a/c": the cwd path after chdir, lexically (symlinked directories
// keep the name they were entered by, as a shell's $PWD does).
void join_path(std::string_view base, std::string_view path, char* out, size_t& length) {
    length = 0;
    auto push = [&](std::string_view part) {
        if (part.empty() || part == ".") return;
        if (part == "..") {
            while (length > 0 && out[length - 1] != '/') --length;
            if (length > 0) --length;  // the slash
            return;
        }
        if (length + 1 + part.size() >= fs::kPathMax) return;
        out[length++] = '/';
        for (char c : part) out[length++] = c;
    };
    auto walk = [&](std::string_view text) {
        while (!text.empty()) {
            size_t slash = text.find('/');
            push(text.substr(0, slash));
            text = slash == std::string_view::npos ? std::string_view{} : text.substr(slash + 1);
        }
    };
    if (path.empty() || path[0] != '/') walk(base);
    walk(path);
    if (length == 0) out[length++] = '/';
}

}  // namespace

SyscallResult sys_open(UserIn<char> path, int flags, uint32_t) { return do_openat(kAtFdCwd, path, flags); }

SyscallResult sys_openat(int dirfd, UserIn<char> path, int flags, uint32_t) {
    return do_openat(dirfd, path, flags);
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
    fs::InodeRef inode(TRY(resolve_at(kAtFdCwd, path.view(), true)));
    if (!inode->is_directory()) return lib::Errno::NotDir;
    char* joined = static_cast<char*>(mm::kmalloc(fs::kPathMax));
    if (!joined) return lib::Errno::NoMem;
    size_t length = 0;
    join_path(proc::current().cwd_path(), path.view(), joined, length);
    proc::current().set_cwd(inode.take(), {joined, length});
    mm::kfree(joined);
    return 0;
}

SyscallResult sys_fchdir(int fd) {
    fs::File* file = TRY(proc::current().fds().get(fd));
    fs::InodeFile* opened = file->as_inode_file();
    if (!opened || !opened->inode().is_directory()) return lib::Errno::NotDir;
    // FIXME(#4): the path of a directory opened by fd (the dentry's name) is not kept yet.
    opened->inode().retain();
    proc::current().set_cwd(&opened->inode(), proc::current().cwd_path());
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
    if (flags & ~(kAtSymlinkNoFollow | kAtEmptyPath | 0x800 /* AT_NO_AUTOMOUNT */)) return lib::Errno::Inval;
    UserPath path;
    TRY(path.copy(user_path));
    if (path.empty() && (flags & kAtEmptyPath) && dirfd != kAtFdCwd) {
        fs::File* file = TRY(proc::current().fds().get(dirfd));
        if (!file->as_inode_file()) return sys_fstat(dirfd, out);  // the console
    }
    fs::InodeRef inode(TRY(inode_at(dirfd, path, flags)));
    return stat_to_user(*inode.get(), out);
}

SyscallResult sys_statx(int dirfd, UserIn<char> user_path, int flags, uint32_t, UserOut<Statx> out) {
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
