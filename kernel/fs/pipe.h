// Pipes: a ring buffer (64 KiB by default, F_SETPIPE_SZ up to 1 MiB) shared by a read end and
// a write end, each an open file description. Transfers block or fail with EAGAIN; a write of
// at most PIPE_BUF bytes goes in whole or not at all (POSIX); reads see EOF once the write end
// is gone, writes EPIPE and SIGPIPE once the read end is.
#pragma once

#include "kernel/fs/file.h"

namespace kernel::fs {

class Pipe;

class PipeEnd final : public File {
public:
    static constexpr size_t kPipeBuf = 4096;
    static constexpr size_t kDefaultCapacity = 65536;
    static constexpr size_t kMaxCapacity = 1 << 20;  // /proc/sys/fs/pipe-max-size

    // A new pipe's two ends, one reference each for the caller; `flags` may hold O_NONBLOCK
    // (for both). NoMem.
    static lib::ErrorOr create(int flags, PipeEnd*& reader, PipeEnd*& writer);
    ~PipeEnd() override;

    lib::Result<size_t> read(std::span<char> buffer) override;
    lib::Result<size_t> write(std::span<const char> data) override;
    bool moves_user_memory() const override { return true; }
    lib::Result<size_t> read_user(uint64_t address, size_t count) override;
    lib::Result<size_t> write_user(uint64_t address, size_t count) override;
    lib::Result<int64_t> ioctl(uint32_t request, uint64_t argument) override;
    lib::ErrorOr stat(sys::LinuxStat& out) override;
    PipeEnd* as_pipe() override { return this; }
    uint32_t poll_events() override;
    bool pollable() const override { return true; }
    int status_flags() const override { return m_flags; }
    void set_status_flags(int flags) override;
    void describe(lib::FormatSink& out) const override;

    // F_GETPIPE_SZ; F_SETPIPE_SZ rounds up to a power of two pages: the new capacity, EPERM
    // above kMaxCapacity, EBUSY below what the pipe holds, NoMem.
    size_t capacity() const;
    lib::Result<size_t> set_capacity(uint64_t bytes);

private:
    friend class Pipe;
    PipeEnd(Pipe& pipe, int flags) : m_pipe(pipe), m_flags(flags) {}
    bool reading() const { return (m_flags & 03) == 0; }  // O_RDONLY
    bool nonblocking() const;
    void announce_change(uint32_t events, bool level_changed) { announce(events, level_changed); }

    Pipe& m_pipe;
    int m_flags;
};

}  // namespace kernel::fs
