// A cursor over the user memory a socket call names: one buffer (read, write, send, recv) or
// an iovec array (readv, sendmsg). Sockets pull what they send through it and push what they
// receive, a chunk at a time; the iovecs are read from user memory as the cursor reaches them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "kernel/mm/user_ptr.h"
#include "kernel/sys/linux_types.h"
#include "lib/base/result.h"

namespace kernel::net {

class UserIo {
public:
    static UserIo single(uint64_t address, size_t length);
    // Kernel memory (sendfile's bounce buffer, File::read/write): plain copies.
    static UserIo kernel(void* data, size_t length);
    // Reads every iovec once to check it and total the lengths (EINVAL past 1024 entries or
    // a total past Linux's MAX_RW_COUNT, which clamps; EFAULT for an unreadable array).
    static lib::Result<UserIo> vectored(mm::UserIn<sys::IoVec> iov, size_t count);

    size_t total() const { return m_total; }
    size_t remaining() const { return m_total - m_done; }
    size_t done() const { return m_done; }
    // Copies the next bytes from user memory into `into` (up to its size); how many.
    lib::Result<size_t> pull(std::span<char> into);
    // Copies `from` to the next bytes of user memory (up to what remains); how many.
    lib::Result<size_t> push(std::span<const char> from);
    // Skips `count` bytes (what a datagram's truncated rest would have filled).
    void skip(size_t count);

private:
    lib::ErrorOr advance_vector();
    lib::Result<size_t> move(void* kernel, size_t length, bool to_user);

    uint64_t m_iov = 0;  // user address of the iovec array (0: single)
    size_t m_count = 0;
    size_t m_index = 0;               // current iovec
    uint64_t m_base = 0, m_left = 0;  // what is left of the current iovec
    size_t m_total = 0, m_done = 0;
    bool m_kernel = false;
};

}  // namespace kernel::net
