// eventfd: a 64-bit counter as a file. A write adds to it (blocking, or EAGAIN, while the sum
// would pass 0xfffffffffffffffe); a read takes it all and leaves 0, or 1 of it in semaphore
// mode (blocking, or EAGAIN, while it is 0). Transfers are exactly 8 bytes.
#pragma once

#include "kernel/fs/file.h"
#include "kernel/sched/wait.h"

namespace kernel::fs {

class EventFd final : public File {
public:
    static constexpr int kSemaphore = 1, kNonblock = 04000, kCloexec = 02000000;

    EventFd(uint64_t initial, int flags) : m_count(initial), m_flags(flags) {}
    lib::Result<size_t> read(std::span<char> buffer) override;
    lib::Result<size_t> write(std::span<const char> data) override;
    lib::ErrorOr stat(sys::LinuxStat& out) override;
    uint32_t poll_events() override;
    bool pollable() const override { return true; }
    int status_flags() const override { return 02 | (m_flags & kNonblock); }  // O_RDWR
    void set_status_flags(int flags) override {
        m_flags = (m_flags & ~kNonblock) | (flags & kNonblock);
    }
    void describe(lib::FormatSink& out) const override { out.write("anon_inode:[eventfd]"); }

private:
    static constexpr uint64_t kMax = 0xfffffffffffffffe;
    bool nonblocking() const { return m_flags & kNonblock; }

    uint64_t m_count;
    int m_flags;
    sched::WaitQueue m_waiters;  // readers of 0 and writers that would overflow
};

}  // namespace kernel::fs
