#include "kernel/fs/inode_file.h"

#include "kernel/sys/linux_types.h"

namespace kernel::fs {

namespace {

constexpr int kSeekSet = 0, kSeekCur = 1, kSeekEnd = 2, kSeekData = 3, kSeekHole = 4;
constexpr int kAccessMode = 3, kWriteOnly = 1;

}  // namespace

InodeFile::~InodeFile() { m_inode->release(); }

lib::Result<size_t> InodeFile::read(std::span<char> buffer) {
    if ((m_flags & kAccessMode) == kWriteOnly) return lib::Errno::BadF;
    size_t got = TRY(m_inode->read(m_offset, std::as_writable_bytes(buffer)));
    m_offset += got;
    return got;
}

lib::Result<size_t> InodeFile::write(std::span<const char>) {
    // Opening for writing already failed with EROFS; this is a read-only description.
    return lib::Errno::BadF;
}

lib::Result<size_t> InodeFile::pread(std::span<char> buffer, uint64_t offset) {
    if ((m_flags & kAccessMode) == kWriteOnly) return lib::Errno::BadF;
    return m_inode->read(offset, std::as_writable_bytes(buffer));
}

lib::ErrorOr InodeFile::stat(sys::LinuxStat& out) { return m_inode->stat(out); }

lib::Result<int64_t> InodeFile::seek(int64_t offset, int whence) {
    int64_t base;
    switch (whence) {
        case kSeekSet:
            base = 0;
            break;
        case kSeekCur:
            base = int64_t(m_offset);
            break;
        case kSeekEnd:
            if (m_inode->is_directory()) return lib::Errno::Inval;
            base = int64_t(m_inode->size());
            break;
        case kSeekData:
        case kSeekHole: {
            // No hole map is kept: data runs to EOF, the only hole is past it (as tmpfs).
            if (m_inode->is_directory() || offset < 0 || uint64_t(offset) >= m_inode->size())
                return lib::Errno::NxIo;
            return whence == kSeekData ? offset : int64_t(m_inode->size());
        }
        default:
            return lib::Errno::Inval;
    }
    int64_t target;
    if (__builtin_add_overflow(base, offset, &target) || target < 0) return lib::Errno::Inval;
    m_offset = uint64_t(target);
    return target;
}

lib::Result<bool> InodeFile::next_entry(DirEntry& out) {
    m_previous_offset = m_offset;
    return m_inode->next_entry(m_offset, out);
}

}  // namespace kernel::fs
