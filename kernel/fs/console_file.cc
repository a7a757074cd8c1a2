// Console file operations, including the tty ioctls libc asks at startup (TCGETS decides
// line buffering; TIOCGWINSZ the terminal size).
#include "kernel/fs/console_file.h"

#include "kernel/console/serial.h"
#include "kernel/mm/user_ptr.h"
#include "kernel/sched/scheduler.h"
#include "kernel/sys/linux_types.h"
#include "kernel/time/clock.h"

namespace kernel::fs {

namespace {

constexpr uint32_t kTcgets = 0x5401;
constexpr uint32_t kTcsets = 0x5402;
constexpr uint32_t kTcsetsw = 0x5403;
constexpr uint32_t kTcsetsf = 0x5404;
constexpr uint32_t kTiocgwinsz = 0x5413;
constexpr uint32_t kTiocswinsz = 0x5414;
constexpr int kAccessMode = 03, kReadOnly = 0, kWriteOnly = 01, kAppend = 02000, kNonblock = 04000;

// A serial tty's defaults: 115200 8N1, ICRNL|IXON, OPOST|ONLCR, ECHO|ICANON|ISIG|IEXTEN.
sys::Termios default_termios() {
    sys::Termios t{};
    t.iflag = 0x0100 | 0x0400;  // ICRNL | IXON
    t.oflag = 0x0001 | 0x0004;  // OPOST | ONLCR
    t.cflag = 0x1002 | 0x0030 | 0x0080 | 0x0800;  // B115200 | CS8 | CREAD | HUPCL
    t.lflag = 0x0001 | 0x0002 | 0x0008 | 0x0010 | 0x0020 | 0x8000;  // ISIG ICANON ECHO.. IEXTEN
    const uint8_t cc[] = {3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22};
    for (size_t i = 0; i < sizeof(cc); ++i) t.cc[i] = cc[i];
    return t;
}

}  // namespace

// Without input the reader sleeps between looks at the UART (fs::PolledBackoff: 1 ms, growing
// to 50 ms), so other threads run meanwhile.
lib::Result<size_t> ConsoleFile::read(std::span<char> buffer) {
    if ((m_flags & kAccessMode) == kWriteOnly) return lib::Errno::BadF;
    if (buffer.empty()) return size_t(0);
    PolledBackoff backoff;
    while (!console::serial_input_ready()) {
        if (m_flags & kNonblock) return lib::Errno::Again;
        uint64_t wake = backoff.next(time::monotonic_ns(), sched::kForever);
        if (sched::sleep_until(wake) == sched::WakeReason::Interrupted) return lib::Errno::Intr;
    }
    return console::serial_read(buffer.data(), buffer.size());
}

uint32_t ConsoleFile::poll_events() {
    uint32_t ready = ev::kWritable;  // the UART takes bytes at once
    if (console::serial_input_ready()) ready |= ev::kReadable;
    return ready;
}

void ConsoleFile::set_status_flags(int flags) {
    constexpr int kChangeable = kNonblock | kAppend;
    m_flags = (m_flags & ~kChangeable) | (flags & kChangeable);
}

lib::Result<size_t> ConsoleFile::write(std::span<const char> data) {
    if ((m_flags & kAccessMode) == kReadOnly) return lib::Errno::BadF;
    console::serial_write({data.data(), data.size()});
    return data.size();
}

lib::Result<int64_t> ConsoleFile::ioctl(uint32_t request, uint64_t argument) {
    switch (request) {
        case kTcgets:
            TRY(mm::copy_to_user(mm::UserOut<sys::Termios>(argument), default_termios()));
            return 0;
        case kTcsets:
        case kTcsetsw:
        case kTcsetsf: {
            sys::Termios ignored;  // settings are accepted; the serial line has no modes
            TRY(mm::copy_from_user(ignored, mm::UserIn<sys::Termios>(argument)));
            return 0;
        }
        case kTiocgwinsz:
            TRY(mm::copy_to_user(mm::UserOut<sys::WinSize>(argument), sys::WinSize{24, 80, 0, 0}));
            return 0;
        case kTiocswinsz:
            return 0;
        default:
            return lib::Errno::NotTy;
    }
}

lib::ErrorOr ConsoleFile::stat(sys::LinuxStat& out) {
    device_stat(m_node, out);
    return {};
}

}  // namespace kernel::fs
