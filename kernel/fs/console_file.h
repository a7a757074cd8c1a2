// The console as a file: the serial port behaving like a Linux tty for stdin, stdout and
// stderr, /dev/console and /dev/tty (it is the program's controlling terminal). Its stat is
// that of the devfs node it stands for, so ttyname() finds the node again.
#pragma once

#include "kernel/fs/devfs.h"
#include "kernel/fs/file.h"

namespace kernel::fs {

class ConsoleFile final : public File {
public:
    static constexpr int kReadWrite = 02;

    // `node`: Device::Console or Device::Tty; `flags`: the open flags kept (access mode).
    explicit ConsoleFile(Device node = Device::Console, int flags = kReadWrite)
        : m_node(node), m_flags(flags) {}
    lib::Result<size_t> read(std::span<char> buffer) override;
    lib::Result<size_t> write(std::span<const char> data) override;
    lib::Result<int64_t> ioctl(uint32_t request, uint64_t argument) override;
    lib::ErrorOr stat(sys::LinuxStat& out) override;
    uint32_t poll_events() override;
    bool pollable() const override { return true; }
    // The UART is polled (no interrupt): readers and waiters look again at a backoff pace.
    bool polled() const override { return true; }
    int status_flags() const override { return m_flags; }
    void set_status_flags(int flags) override;
    void describe(lib::FormatSink& out) const override {
        out.write(m_node == Device::Tty ? "/dev/tty" : "/dev/console");
    }

private:
    Device m_node;
    int m_flags;
};

}  // namespace kernel::fs
