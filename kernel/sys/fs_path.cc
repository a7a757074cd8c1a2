// UserPath and the *at() starting points.
#include "kernel/sys/fs_path.h"

#include "kernel/fs/inode_file.h"
#include "kernel/mm/heap.h"
#include "kernel/proc/process.h"
#include "kernel/sys/linux_types.h"

namespace kernel::sys {

namespace {

// Most paths fit the heap's largest size class; a whole PATH_MAX is a two-frame block.
constexpr size_t kShortPath = 2032;

}  // namespace

UserPath::UserPath() : m_buffer(static_cast<char*>(mm::kmalloc(kShortPath))) {}

UserPath::~UserPath() { mm::kfree(m_buffer); }

lib::ErrorOr UserPath::copy(mm::UserIn<char> path) {
    if (!m_buffer) return lib::Errno::NoMem;
    auto length = mm::copy_string_from_user(m_buffer, kShortPath - 1, path);
    if (length.is_error() && length.error() == lib::Errno::NameTooLong) {
        mm::kfree(m_buffer);
        m_buffer = static_cast<char*>(mm::kmalloc(fs::kPathMax));
        if (!m_buffer) return lib::Errno::NoMem;
        length = mm::copy_string_from_user(m_buffer, fs::kPathMax - 1, path);
    }
    m_length = TRY(length);
    return {};
}

lib::Result<fs::Inode*> start_directory(int dirfd, fs::PathTrace* trace) {
    if (dirfd == kAtFdCwd) {
        fs::Inode* cwd = proc::current().cwd();
        if (!cwd) return lib::Errno::NoEnt;  // no filesystem at all
        cwd->retain();
        if (trace) trace->start(proc::current().cwd_path());
        return cwd;
    }
    fs::File* file = TRY(proc::current().fds().get(dirfd));
    fs::InodeFile* opened = file->as_inode_file();
    if (!opened) return lib::Errno::NotDir;
    if (!opened->inode().is_directory()) return lib::Errno::NotDir;
    opened->inode().retain();
    if (trace) trace->start(opened->path());
    return &opened->inode();
}

lib::Result<fs::Inode*> resolve_at(int dirfd, std::string_view path, bool follow,
                                   fs::PathTrace* trace) {
    if (path.empty()) return lib::Errno::NoEnt;
    if (!fs::has_root()) return lib::Errno::NoEnt;
    if (path[0] == '/') return fs::resolve(path, nullptr, follow, trace);
    fs::InodeRef base(TRY(start_directory(dirfd, trace)));
    return fs::resolve(path, base.get(), follow, trace);
}

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

lib::Result<fs::ParentPath> parent_at(int dirfd, std::string_view path, fs::PathTrace* trace) {
    if (path.empty()) return lib::Errno::NoEnt;
    if (!fs::has_root()) return lib::Errno::NoEnt;
    if (path[0] == '/') return fs::resolve_parent(path, nullptr, trace);
    fs::InodeRef base(TRY(start_directory(dirfd, trace)));
    return fs::resolve_parent(path, base.get(), trace);
}

}  // namespace kernel::sys
