// InodeFile: reads and writes at the file offset (O_APPEND: at the end), seeks, listings.
#include "kernel/fs/inode_file.h"

#include "kernel/mm/heap.h"
#include "kernel/sys/linux_types.h"

namespace kernel::fs {

namespace {

constexpr int kSeekEnd = 2, kSeekData = 3, kSeekHole = 4;
// F_SETFL may change these (Linux: O_APPEND, O_ASYNC, O_DIRECT, O_NOATIME, O_NONBLOCK).
constexpr int kChangeableFlags = 02000 | 020000 | 040000 | 01000000 | 04000;

}  // namespace

lib::Result<InodeFile*> InodeFile::create(InodeRef inode, int flags, std::string_view path) {
    auto* file = new (std::nothrow) InodeFile(inode.get(), flags);
    if (!file) return lib::Errno::NoMem;
    inode.take();
    if (auto named = file->m_path.set(path); named.is_error()) {
        file->release();
        return named.error();
    }
    return file;
}

InodeFile::~InodeFile() { m_inode->release(); }

lib::Result<size_t> InodeFile::read(std::span<char> buffer) {
    if (!readable()) return lib::Errno::BadF;
    size_t got = TRY(m_inode->read(m_offset, std::as_writable_bytes(buffer)));
    m_offset += got;
    return got;
}

lib::Result<size_t> InodeFile::write(std::span<const char> data) {
    if (!writable()) return lib::Errno::BadF;
    if (m_flags & kAppend) m_offset = m_inode->size();
    size_t written = TRY(m_inode->write(m_offset, std::as_bytes(data)));
    m_offset += written;
    return written;
}

lib::Result<size_t> InodeFile::pread(std::span<char> buffer, uint64_t offset) {
    if (!readable()) return lib::Errno::BadF;
    return m_inode->read(offset, std::as_writable_bytes(buffer));
}

lib::Result<size_t> InodeFile::pwrite(std::span<const char> data, uint64_t offset) {
    if (!writable()) return lib::Errno::BadF;
    // Linux appends even for pwrite on an O_APPEND description (pwrite(2), BUGS).
    if (m_flags & kAppend) offset = m_inode->size();
    return m_inode->write(offset, std::as_bytes(data));
}

void InodeFile::set_status_flags(int flags) {
    m_flags = (m_flags & ~kChangeableFlags) | (flags & kChangeableFlags);
}

lib::ErrorOr InodeFile::stat(sys::LinuxStat& out) { return m_inode->stat(out); }

lib::Result<int64_t> InodeFile::seek(int64_t offset, int whence) {
    if (m_flags & kPath) return lib::Errno::BadF;
    if (whence == kSeekData || whence == kSeekHole) {
        // No hole map is kept: data runs to EOF, the only hole is past it (as tmpfs).
        if (m_inode->is_directory() || offset < 0 || uint64_t(offset) >= m_inode->size())
            return lib::Errno::NxIo;
        return whence == kSeekData ? offset : int64_t(m_inode->size());
    }
    if (whence == kSeekEnd && m_inode->is_directory()) return lib::Errno::Inval;
    m_offset = TRY(seek_target(m_offset, m_inode->size(), offset, whence));
    return int64_t(m_offset);
}

lib::Result<bool> InodeFile::next_entry(DirEntry& out) {
    m_previous_offset = m_offset;
    return m_inode->next_entry(m_offset, out);
}

}  // namespace kernel::fs
