// The console as a file: the serial port behaving like a Linux tty (ttyS0) for stdin, stdout
// and stderr.
#pragma once

#include "kernel/fs/file.h"

namespace kernel::fs {

class ConsoleFile final : public File {
public:
    lib::Result<size_t> read(std::span<char> buffer) override;
    lib::Result<size_t> write(std::span<const char> data) override;
    lib::Result<int64_t> ioctl(uint32_t request, uint64_t argument) override;
    lib::ErrorOr stat(sys::LinuxStat& out) override;
    int16_t poll_events() override;
};

}  // namespace kernel::fs
