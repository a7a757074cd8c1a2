// timerfd: a timer whose expirations are read as a count (8 bytes), on CLOCK_MONOTONIC,
// CLOCK_BOOTTIME (the same here: the VM never suspends) or CLOCK_REALTIME, one-shot or
// periodic, relative or absolute. One sched::Timer per file; as on Linux, a periodic timer
// is not re-armed until the expirations are read (or asked for), so an unread timer costs no
// interrupts: the missed periods are counted from the clock then.
#pragma once

#include "kernel/fs/file.h"
#include "kernel/sched/timer.h"
#include "kernel/sched/wait.h"

namespace kernel::fs {

class TimerFd final : public File {
public:
    static constexpr int kNonblock = 04000, kCloexec = 02000000;
    struct Setting {
        uint64_t value_ns;     // left until the next expiration; 0: disarmed
        uint64_t interval_ns;  // 0: one-shot
    };

    TimerFd(bool realtime, int flags);
    // Arms the timer (value_ns 0 disarms it); `absolute`: value_ns is a time on the timer's
    // clock. Unread expirations are dropped. Returns the previous setting.
    Setting set(uint64_t value_ns, uint64_t interval_ns, bool absolute);
    Setting get();

    lib::Result<size_t> read(std::span<char> buffer) override;
    lib::Result<size_t> write(std::span<const char>) override { return lib::Errno::Inval; }
    lib::ErrorOr stat(sys::LinuxStat& out) override;
    uint32_t poll_events() override { return m_ticks ? ev::kReadable : 0; }
    bool pollable() const override { return true; }
    TimerFd* as_timerfd() override { return this; }
    int status_flags() const override { return 02 | (m_flags & kNonblock); }  // O_RDWR
    void set_status_flags(int flags) override {
        m_flags = (m_flags & ~kNonblock) | (flags & kNonblock);
    }
    void describe(lib::FormatSink& out) const override { out.write("anon_inode:[timerfd]"); }

private:
    static void expired(sched::Timer& timer);
    // Counts the periods that passed since the last expiration and re-arms for the next.
    void catch_up();

    bool m_realtime;
    int m_flags;
    sched::Timer m_timer;
    uint64_t m_interval = 0;
    uint64_t m_ticks = 0;    // expirations not read yet
    bool m_expired = false;  // fired and, if periodic, not re-armed yet
    sched::WaitQueue m_readers;
};

}  // namespace kernel::fs
