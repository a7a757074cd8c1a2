// The process's file descriptor table: small integers to open file descriptions.
#pragma once

#include <cstddef>

#include "kernel/fs/file.h"
#include "lib/base/result.h"

namespace kernel::proc {

class FdTable {
public:
    static constexpr int kMaxFds = 1024;  // RLIMIT_NOFILE's soft default

    ~FdTable();
    // The description behind fd, or EBADF. Borrowed: valid until the fd is closed.
    lib::Result<fs::File*> get(int fd) const;
    // Installs file at the lowest free descriptor (takes over the caller's reference).
    lib::Result<int> install(fs::File* file);
    lib::ErrorOr install_at(int fd, fs::File* file);
    lib::ErrorOr close(int fd);

private:
    fs::File* m_files[kMaxFds] = {};
};

}  // namespace kernel::proc
