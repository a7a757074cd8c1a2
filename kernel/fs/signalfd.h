// signalfd: a file whose reads take the calling thread's pending signals of a mask (its own,
// then the process's) as struct signalfd_siginfo, and which polls readable while one is
// pending. The signal code calls signalfd_notify() whenever a signal becomes pending.
#pragma once

#include <cstdint>

#include "kernel/fs/file.h"

namespace kernel::fs {

class SignalFd final : public File {
public:
    SignalFd(uint64_t mask, bool nonblocking);
    ~SignalFd() override;

    // Whole signalfd_siginfo records only (EINVAL below one); blocks (interruptibly) until
    // a signal of the mask is pending unless O_NONBLOCK (EAGAIN).
    lib::Result<size_t> read(std::span<char> buffer) override;
    lib::Result<size_t> write(std::span<const char> data) override;
    lib::ErrorOr stat(sys::LinuxStat& out) override;
    uint32_t poll_events() override;
    bool pollable() const override { return true; }
    int status_flags() const override;
    void set_status_flags(int flags) override;
    void describe(lib::FormatSink& out) const override { out.write("anon_inode:[signalfd]"); }

    void set_mask(uint64_t mask) { m_mask = mask; }
    // A signal became pending: epoll entries watching this file hear of it.
    void signal_arrived() { announce(ev::kReadable); }

private:
    friend SignalFd* as_signalfd(File* file);
    friend void signalfd_notify();
    uint64_t m_mask;
    bool m_nonblocking;
    SignalFd* m_next = nullptr;  // every signalfd (as_signalfd without RTTI)
};

// `file` when it is a signalfd, else nullptr.
SignalFd* as_signalfd(File* file);
// A signal became pending: wake blocked reads and pollers.
void signalfd_notify();

}  // namespace kernel::fs
