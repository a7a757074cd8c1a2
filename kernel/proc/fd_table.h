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
    // Installs file at the lowest free descriptor at or above `lowest` (takes over the
    // caller's reference). EMFILE when none is free.
    lib::Result<int> install(fs::File* file, int lowest = 0, bool cloexec = false);
    lib::ErrorOr install_at(int fd, fs::File* file, bool cloexec = false);
    lib::ErrorOr close(int fd);
    // FD_CLOEXEC (kept and reported; there is no exec to honour it).
    bool cloexec(int fd) const { return fd >= 0 && fd < kMaxFds && m_cloexec[fd]; }
    void set_cloexec(int fd, bool value) {
        if (fd >= 0 && fd < kMaxFds) m_cloexec[fd] = value;
    }

private:
    fs::File* m_files[kMaxFds] = {};
    bool m_cloexec[kMaxFds] = {};
    // Every descriptor below this one is in use: install() starts its search here, so opening
    // many files costs one step each, not a scan from 0 (each step is emulated on kvm_pvm).
    int m_first_free = 0;
};

}  // namespace kernel::proc
