// Syscalls that change names: mkdir(at), unlink(at), rmdir, rename(at/at2), symlink(at),
// link(at). Each finds the directory holding the last component and lets its filesystem
// check the rest; the errors for "/", "." and ".." in last place, for mount points (EBUSY)
// and for crossing filesystems (EXDEV) are decided here, as Linux's namei does.
#include "kernel/fs/vfs.h"
#include "kernel/proc/process.h"
#include "kernel/sys/fs_path.h"
#include "kernel/sys/handlers.h"

namespace kernel::sys {

namespace {

constexpr unsigned kRenameExchange = 2, kRenameWhiteout = 4;

// Not a name a directory can hold: "" (the path was "/"), "." or "..".
bool is_special(std::string_view last) { return last.empty() || last == "." || last == ".."; }

// The inode `last` names in `directory` (not crossing into a mount), or nullptr.
fs::InodeRef child_of(fs::Inode& directory, std::string_view last) {
    auto found = directory.lookup(last);
    return fs::InodeRef(found.has_value() ? found.value() : nullptr);
}

SyscallResult do_mkdirat(int dirfd, UserIn<char> user_path, uint32_t mode) {
    UserPath path;
    TRY(path.copy(user_path));
    fs::ParentPath parent = TRY(parent_at(dirfd, path.view()));
    fs::InodeRef directory(parent.directory);
    if (is_special(parent.last)) return lib::Errno::Exist;
    // Linux keeps the sticky bit of a mkdir mode (S_IRWXUGO | S_ISVTX), not set-id bits.
    TRY(directory->make_directory(parent.last, mode & ~proc::current().umask & 01777));
    return 0;
}

SyscallResult do_unlinkat(int dirfd, UserIn<char> user_path, bool directory_wanted) {
    UserPath path;
    TRY(path.copy(user_path));
    fs::ParentPath parent = TRY(parent_at(dirfd, path.view()));
    fs::InodeRef directory(parent.directory);
    if (directory_wanted) {
        if (parent.last.empty()) return lib::Errno::Busy;  // rmdir("/")
        if (parent.last == ".") return lib::Errno::Inval;
        if (parent.last == "..") return lib::Errno::NotEmpty;
        fs::InodeRef child = child_of(*directory.get(), parent.last);
        if (child && fs::is_mount_point(*child.get())) return lib::Errno::Busy;
    } else {
        if (is_special(parent.last)) return lib::Errno::IsDir;
        if (parent.trailing_slash) {  // "name/" must be a directory, which unlink refuses
            fs::InodeRef child = child_of(*directory.get(), parent.last);
            if (!child) return lib::Errno::NoEnt;
            return child->is_directory() ? lib::Errno::IsDir : lib::Errno::NotDir;
        }
    }
    TRY(directory->remove(parent.last, directory_wanted));
    return 0;
}

SyscallResult do_renameat(int old_dirfd, UserIn<char> old_user, int new_dirfd,
                          UserIn<char> new_user, unsigned flags) {
    if (flags & (kRenameExchange | kRenameWhiteout)) return lib::Errno::Inval;  // not supported
    if (flags & ~fs::kRenameNoReplace) return lib::Errno::Inval;
    UserPath old_path, new_path;
    TRY(old_path.copy(old_user));
    TRY(new_path.copy(new_user));
    fs::ParentPath from = TRY(parent_at(old_dirfd, old_path.view()));
    fs::InodeRef from_dir(from.directory);
    fs::ParentPath to = TRY(parent_at(new_dirfd, new_path.view()));
    fs::InodeRef to_dir(to.directory);
    if (from_dir->filesystem() != to_dir->filesystem()) return lib::Errno::XDev;
    if (is_special(from.last)) return lib::Errno::Busy;
    if (is_special(to.last))
        return (flags & fs::kRenameNoReplace) ? lib::Errno::Exist : lib::Errno::Busy;
    fs::InodeRef source = child_of(*from_dir.get(), from.last);
    if (!source) return lib::Errno::NoEnt;
    if ((from.trailing_slash || to.trailing_slash) && !source->is_directory())
        return lib::Errno::NotDir;
    if (fs::is_mount_point(*source.get())) return lib::Errno::Busy;
    if (fs::InodeRef target = child_of(*to_dir.get(), to.last);
        target && fs::is_mount_point(*target.get()))
        return lib::Errno::Busy;
    TRY(from_dir->rename(from.last, *to_dir.get(), to.last, flags));
    return 0;
}

SyscallResult do_symlinkat(UserIn<char> user_target, int dirfd, UserIn<char> user_path) {
    UserPath target, path;
    TRY(target.copy(user_target));
    TRY(path.copy(user_path));
    if (target.empty()) return lib::Errno::NoEnt;
    fs::ParentPath parent = TRY(parent_at(dirfd, path.view()));
    fs::InodeRef directory(parent.directory);
    if (is_special(parent.last)) return lib::Errno::Exist;
    TRY(directory->make_symlink(parent.last, target.view()));
    return 0;
}

SyscallResult do_linkat(int old_dirfd, UserIn<char> old_user, int new_dirfd, UserIn<char> new_user,
                        int flags) {
    if (flags & ~(kAtSymlinkFollow | kAtEmptyPath)) return lib::Errno::Inval;
    UserPath old_path, new_path;
    TRY(old_path.copy(old_user));
    TRY(new_path.copy(new_user));
    // linkat does not follow a final symlink unless asked to (AT_SYMLINK_FOLLOW).
    fs::InodeRef source(TRY(inode_at(
        old_dirfd, old_path, (flags & kAtSymlinkFollow) ? flags : flags | kAtSymlinkNoFollow)));
    if (source->is_directory()) return lib::Errno::Perm;
    fs::ParentPath parent = TRY(parent_at(new_dirfd, new_path.view()));
    fs::InodeRef directory(parent.directory);
    if (is_special(parent.last)) return lib::Errno::Exist;
    if (directory->filesystem() != source->filesystem()) return lib::Errno::XDev;
    TRY(directory->link(parent.last, *source.get()));
    return 0;
}

}  // namespace

SyscallResult sys_mkdir(UserIn<char> path, uint32_t mode) {
    return do_mkdirat(kAtFdCwd, path, mode);
}

SyscallResult sys_mkdirat(int dirfd, UserIn<char> path, uint32_t mode) {
    return do_mkdirat(dirfd, path, mode);
}

SyscallResult sys_unlink(UserIn<char> path) { return do_unlinkat(kAtFdCwd, path, false); }

SyscallResult sys_rmdir(UserIn<char> path) { return do_unlinkat(kAtFdCwd, path, true); }

SyscallResult sys_unlinkat(int dirfd, UserIn<char> path, int flags) {
    if (flags & ~kAtRemoveDir) return lib::Errno::Inval;
    return do_unlinkat(dirfd, path, flags & kAtRemoveDir);
}

SyscallResult sys_rename(UserIn<char> old_path, UserIn<char> new_path) {
    return do_renameat(kAtFdCwd, old_path, kAtFdCwd, new_path, 0);
}

SyscallResult sys_renameat(int old_dirfd, UserIn<char> old_path, int new_dirfd,
                           UserIn<char> new_path) {
    return do_renameat(old_dirfd, old_path, new_dirfd, new_path, 0);
}

SyscallResult sys_renameat2(int old_dirfd, UserIn<char> old_path, int new_dirfd,
                            UserIn<char> new_path, uint32_t flags) {
    return do_renameat(old_dirfd, old_path, new_dirfd, new_path, flags);
}

SyscallResult sys_symlink(UserIn<char> target, UserIn<char> path) {
    return do_symlinkat(target, kAtFdCwd, path);
}

SyscallResult sys_symlinkat(UserIn<char> target, int dirfd, UserIn<char> path) {
    return do_symlinkat(target, dirfd, path);
}

SyscallResult sys_link(UserIn<char> old_path, UserIn<char> new_path) {
    return do_linkat(kAtFdCwd, old_path, kAtFdCwd, new_path, 0);
}

SyscallResult sys_linkat(int old_dirfd, UserIn<char> old_path, int new_dirfd, UserIn<char> new_path,
                         int flags) {
    return do_linkat(old_dirfd, old_path, new_dirfd, new_path, flags);
}

}  // namespace kernel::sys
