// An open file description: what a file descriptor refers to. Each kind (the console, files
// and directories of the VFS; pipes and sockets in later issues) implements the operations it
// supports; the rest fail the way Linux fails them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "lib/base/format.h"
#include "lib/base/result.h"

namespace kernel::sys {
struct LinuxStat;
}

namespace kernel::fs {

class InodeFile;

// lseek's arithmetic for a file of `size` bytes at `current`: the new offset for SEEK_SET,
// SEEK_CUR and SEEK_END (EINVAL for a negative or overflowing result or another whence;
// SEEK_DATA/SEEK_HOLE are the caller's).
lib::Result<uint64_t> seek_target(uint64_t current, uint64_t size, int64_t offset, int whence);

class File {
public:
    virtual ~File() = default;

    // `buffer` is kernel memory; syscalls copy to and from user memory around these calls.
    virtual lib::Result<size_t> read(std::span<char> buffer) = 0;
    virtual lib::Result<size_t> write(std::span<const char> data) = 0;
    virtual lib::Result<int64_t> ioctl(uint32_t request, uint64_t argument);
    virtual lib::ErrorOr stat(sys::LinuxStat& out) = 0;
    virtual lib::Result<int64_t> seek(int64_t offset, int whence);
    // pread/pwrite: ESPIPE unless the file is seekable.
    virtual lib::Result<size_t> pread(std::span<char> buffer, uint64_t offset);
    virtual lib::Result<size_t> pwrite(std::span<const char> data, uint64_t offset);
    // A file opened from the VFS (regular file or directory), else nullptr: no RTTI here.
    virtual InodeFile* as_inode_file() { return nullptr; }
    // poll(2) readiness now: POLLIN/POLLOUT bits (kernel/sys/linux_types.h). Regular files
    // are always ready, as on Linux.
    virtual int16_t poll_events() { return 0x001 | 0x004 | 0x040 | 0x100; }
    // The O_* status flags (O_APPEND, O_NONBLOCK, the access mode) for F_GETFL.
    virtual int status_flags() const { return 2; }  // O_RDWR
    // F_SETFL: the flags a description lets change (O_APPEND for files); others ignore it.
    virtual void set_status_flags(int) {}
    // What /proc/self/fd/N links to: the path the file was opened by, or a name in Linux's
    // style for what has none ("pipe:[N]", "anon_inode:[...]").
    virtual void describe(lib::FormatSink& out) const { out.write("anon_inode:[file]"); }
    // mmap of this file gives anonymous memory (/dev/zero).
    virtual bool maps_as_anonymous() const { return false; }

    void retain() { ++m_references; }
    // Drops one reference; deletes the description when it was the last.
    void release();

private:
    uint32_t m_references = 1;
};

// A heap copy of the path a description was opened by.
class OpenPath {
public:
    OpenPath() = default;
    OpenPath(const OpenPath&) = delete;
    OpenPath& operator=(const OpenPath&) = delete;
    ~OpenPath();
    lib::ErrorOr set(std::string_view path);  // NoMem
    std::string_view view() const { return {m_text, m_length}; }

private:
    char* m_text = nullptr;
    size_t m_length = 0;
};

}  // namespace kernel::fs
