// An open file description: what a file descriptor refers to. Each kind (console today; pipes,
// regular files and sockets in later issues) implements the operations it supports; the rest
// fail the way Linux fails them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/base/result.h"

namespace kernel::sys {
struct LinuxStat;
}

namespace kernel::fs {

class File {
public:
    virtual ~File() = default;

    // `buffer` is kernel memory; syscalls copy to and from user memory around these calls.
    virtual lib::Result<size_t> read(std::span<char> buffer) = 0;
    virtual lib::Result<size_t> write(std::span<const char> data) = 0;
    virtual lib::Result<int64_t> ioctl(uint32_t request, uint64_t argument);
    virtual lib::ErrorOr stat(sys::LinuxStat& out) = 0;
    virtual lib::Result<int64_t> seek(int64_t offset, int whence);

    void retain() { ++m_references; }
    // Drops one reference; deletes the description when it was the last.
    void release();

private:
    uint32_t m_references = 1;
};

}  // namespace kernel::fs
