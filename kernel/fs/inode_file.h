// An open regular file or directory from the VFS: the inode, the file offset (for a
// directory, getdents64's cookie), the open flags (access mode, O_APPEND, O_PATH...) and the
// path it was opened by (/proc/self/fd, fchdir, the names in /proc/self/maps).
#pragma once

#include "kernel/fs/file.h"
#include "kernel/fs/vfs.h"

namespace kernel::fs {

class InodeFile final : public File {
public:
    static constexpr int kAccessMode = 03, kReadOnly = 0, kWriteOnly = 01, kReadWrite = 02;
    static constexpr int kAppend = 02000, kPath = 010000000;

    // A new description (one reference). NoMem.
    static lib::Result<InodeFile*> create(InodeRef inode, int flags, std::string_view path);
    ~InodeFile() override;

    lib::Result<size_t> read(std::span<char> buffer) override;
    lib::Result<size_t> write(std::span<const char> data) override;
    lib::Result<size_t> pread(std::span<char> buffer, uint64_t offset) override;
    lib::Result<size_t> pwrite(std::span<const char> data, uint64_t offset) override;
    lib::ErrorOr stat(sys::LinuxStat& out) override;
    lib::Result<int64_t> seek(int64_t offset, int whence) override;
    InodeFile* as_inode_file() override { return this; }
    int status_flags() const override { return m_flags; }
    void set_status_flags(int flags) override;
    void describe(lib::FormatSink& out) const override { out.write(m_path.view()); }
    std::string_view path() const { return m_path.view(); }

    Inode& inode() { return *m_inode; }
    bool readable() const { return !(m_flags & kPath) && (m_flags & kAccessMode) != kWriteOnly; }
    bool writable() const {
        return !(m_flags & kPath) &&
               ((m_flags & kAccessMode) == kWriteOnly || (m_flags & kAccessMode) == kReadWrite);
    }
    // The next directory entry from the file's position; false at the end.
    lib::Result<bool> next_entry(DirEntry& out);
    // Steps back to before the entry last returned (getdents64 that ran out of room).
    void unread_entry() { m_offset = m_previous_offset; }

private:
    InodeFile(Inode* inode, int flags) : m_inode(inode), m_flags(flags) {}

    Inode* m_inode;
    int m_flags;
    OpenPath m_path;
    uint64_t m_offset = 0;
    uint64_t m_previous_offset = 0;
};

}  // namespace kernel::fs
