// File descriptor table operations.
#include "kernel/proc/fd_table.h"

namespace kernel::proc {

FdTable::~FdTable() {
    for (fs::File*& file : m_files)
        if (file) file->release();
}

lib::Result<fs::File*> FdTable::get(int fd) const {
    if (fd < 0 || fd >= kMaxFds || !m_files[fd]) return lib::Errno::BadF;
    return m_files[fd];
}

lib::Result<int> FdTable::install(fs::File* file) {
    for (int fd = 0; fd < kMaxFds; ++fd) {
        if (!m_files[fd]) {
            m_files[fd] = file;
            return fd;
        }
    }
    return lib::Errno::MFile;
}

lib::ErrorOr FdTable::install_at(int fd, fs::File* file) {
    if (fd < 0 || fd >= kMaxFds) return lib::Errno::BadF;
    if (m_files[fd]) m_files[fd]->release();
    m_files[fd] = file;
    return {};
}

lib::ErrorOr FdTable::close(int fd) {
    if (fd < 0 || fd >= kMaxFds || !m_files[fd]) return lib::Errno::BadF;
    m_files[fd]->release();
    m_files[fd] = nullptr;
    return {};
}

}  // namespace kernel::proc
