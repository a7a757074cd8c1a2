// An open file description: what a file descriptor refers to. Each kind (the console, files
// and directories of the VFS, pipes, eventfd, timerfd, epoll, sockets)
// implements the operations it supports; the rest fail the way Linux fails them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "kernel/fs/readiness.h"
#include "lib/base/format.h"
#include "lib/base/result.h"

namespace kernel::sys {
struct LinuxStat;
}

namespace kernel::net {
class SocketFile;
}

namespace kernel::fs {

class InodeFile;
class PipeEnd;
class TimerFd;

// lseek's arithmetic for a file of `size` bytes at `current`: the new offset for SEEK_SET,
// SEEK_CUR and SEEK_END (EINVAL for a negative or overflowing result or another whence;
// SEEK_DATA/SEEK_HOLE are the caller's).
lib::Result<uint64_t> seek_target(uint64_t current, uint64_t size, int64_t offset, int whence);

class File {
public:
    File() = default;
    File(const File&) = delete;
    File& operator=(const File&) = delete;
    // Detaches the watches still on the file (their epoll entries go away, as on Linux when
    // the last descriptor of a description is closed).
    virtual ~File();

    // `buffer` is kernel memory; syscalls copy to and from user memory around these calls.
    virtual lib::Result<size_t> read(std::span<char> buffer) = 0;
    virtual lib::Result<size_t> write(std::span<const char> data) = 0;
    virtual lib::Result<int64_t> ioctl(uint32_t request, uint64_t argument);
    virtual lib::ErrorOr stat(sys::LinuxStat& out) = 0;
    virtual lib::Result<int64_t> seek(int64_t offset, int whence);
    // pread/pwrite: ESPIPE unless the file is seekable.
    virtual lib::Result<size_t> pread(std::span<char> buffer, uint64_t offset);
    virtual lib::Result<size_t> pwrite(std::span<const char> data, uint64_t offset);
    // Files that move data straight between user memory and their own buffers (pipes): the
    // read/write syscalls then call read_user/write_user, one copy instead of two through
    // the bounce buffer. `address` is a user address; copies are checked there.
    virtual bool moves_user_memory() const { return false; }
    virtual lib::Result<size_t> read_user(uint64_t address, size_t count);
    virtual lib::Result<size_t> write_user(uint64_t address, size_t count);
    // The kinds syscalls tell apart (no RTTI here): a file opened from the VFS (regular file
    // or directory), a pipe end, a timerfd, an epoll instance; nullptr or false for others.
    virtual InodeFile* as_inode_file() { return nullptr; }
    virtual PipeEnd* as_pipe() { return nullptr; }
    virtual net::SocketFile* as_socket() { return nullptr; }
    virtual TimerFd* as_timerfd() { return nullptr; }
    virtual bool is_epoll() const { return false; }

    // Readiness (poll, select, epoll; docs/ARCHITECTURE.md, "Readiness"): the ev:: bits that
    // hold now. Regular files are always ready, as on Linux.
    virtual uint32_t poll_events() { return ev::kReadable | ev::kWritable; }
    // Whether epoll takes the file: its readiness can change and it announces the changes
    // (Linux refuses files without a ->poll, regular files and directories, with EPERM).
    virtual bool pollable() const { return false; }
    // Readiness that changes without an announcement (the console, a polled UART): waiters
    // look again at a PolledBackoff pace.
    virtual bool polled() const { return false; }
    void add_watch(ReadinessWatch& watch);
    void remove_watch(ReadinessWatch& watch);
    ReadinessWatch* first_watch() const { return m_watches; }
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

protected:
    // What a file calls whenever its readiness may have changed (data in, space freed, the
    // other side gone): its watches hear `events` (edge-triggered epoll entries count each
    // call as an edge) and, when `level_changed`, every thread sleeping in poll, select or
    // epoll_wait wakes to look again; false says poll_events() reads as before (a write into
    // a pipe that already held data), which spares them a rescan. Safe from a timer
    // callback: it only moves epoll entries onto ready lists and wakes threads.
    void announce(uint32_t events, bool level_changed = true);

private:
    uint32_t m_references = 1;
    ReadinessWatch* m_watches = nullptr;
};

// A reference held for the length of a syscall that may sleep: another thread closing the
// descriptor meanwhile must not free the description under the sleeper.
class FileRef {
public:
    explicit FileRef(File* file) : m_file(file) { m_file->retain(); }
    FileRef(const FileRef&) = delete;
    FileRef& operator=(const FileRef&) = delete;
    ~FileRef() { m_file->release(); }
    File* operator->() const { return m_file; }
    File& operator*() const { return *m_file; }
    File* get() const { return m_file; }

private:
    File* m_file;
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
