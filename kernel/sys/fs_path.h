// What the path-based syscalls share: a path copied in from the program (on the heap: PATH_MAX
// is too much for a 32 KiB kernel stack already holding a bounce buffer) and the *at()
// conventions (dirfd or the cwd as the start, AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW).
#pragma once

#include <string_view>

#include "kernel/fs/vfs.h"
#include "kernel/mm/user_ptr.h"
#include "lib/base/result.h"

namespace kernel::sys {

inline constexpr int kAtSymlinkNoFollow = 0x100, kAtRemoveDir = 0x200, kAtSymlinkFollow = 0x400;

class UserPath {
public:
    UserPath();
    ~UserPath();
    UserPath(const UserPath&) = delete;
    UserPath& operator=(const UserPath&) = delete;

    lib::ErrorOr copy(mm::UserIn<char> path);
    std::string_view view() const { return {m_buffer, m_length}; }
    bool empty() const { return m_length == 0; }

private:
    char* m_buffer;
    size_t m_length = 0;
};

// The directory a relative path starts from: the cwd, or dirfd's directory. A new reference.
// `trace` (when given) starts at that directory's path.
lib::Result<fs::Inode*> start_directory(int dirfd, fs::PathTrace* trace = nullptr);
// `trace` ends as the path of what was found (fs::resolve).
lib::Result<fs::Inode*> resolve_at(int dirfd, std::string_view path, bool follow,
                                   fs::PathTrace* trace = nullptr);
// The inode behind (dirfd, path) with AT_EMPTY_PATH and AT_SYMLINK_NOFOLLOW honoured.
lib::Result<fs::Inode*> inode_at(int dirfd, const UserPath& path, int flags);
// The directory holding the last component of (dirfd, path), and that component; `trace`
// ends as the directory's path.
lib::Result<fs::ParentPath> parent_at(int dirfd, std::string_view path,
                                      fs::PathTrace* trace = nullptr);

}  // namespace kernel::sys
