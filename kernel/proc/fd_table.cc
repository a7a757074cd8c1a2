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

lib::Result<int> FdTable::install(fs::File* file, int lowest, bool cloexec) {
    if (lowest < 0) return lib::Errno::Inval;
    bool from_first_free = lowest <= m_first_free;
    for (int fd = from_first_free ? m_first_free : lowest; fd < kMaxFds; ++fd) {
        if (!m_files[fd]) {
            m_files[fd] = file;
            m_cloexec[fd] = cloexec;
            if (from_first_free) m_first_free = fd + 1;  // everything before fd was in use
            return fd;
        }
    }
    return lib::Errno::MFile;
}

lib::ErrorOr FdTable::install_at(int fd, fs::File* file, bool cloexec) {
    if (fd < 0 || fd >= kMaxFds) return lib::Errno::BadF;
    if (m_files[fd]) m_files[fd]->release();
    m_files[fd] = file;
    m_cloexec[fd] = cloexec;
    return {};
}

lib::ErrorOr FdTable::close(int fd) {
    if (fd < 0 || fd >= kMaxFds || !m_files[fd]) return lib::Errno::BadF;
    m_files[fd]->release();
    m_files[fd] = nullptr;
    m_cloexec[fd] = false;
    if (fd < m_first_free) m_first_free = fd;
    return {};
}

}  // namespace kernel::proc
