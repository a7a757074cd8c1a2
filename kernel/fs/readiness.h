// Readiness of open files for poll, select and epoll (docs/ARCHITECTURE.md, "Readiness"):
// the event bits, the watch a file calls when its readiness may have changed, and the pace
// at which waiters look again at files that cannot announce changes (the polled console).
#pragma once

#include <cstdint>

namespace kernel::fs {

class File;

// Linux's POLL* and EPOLL* bits (the same values; uapi/asm-generic/poll.h, eventpoll.h).
namespace ev {
inline constexpr uint32_t kIn = 0x001, kPri = 0x002, kOut = 0x004, kErr = 0x008, kHup = 0x010,
                          kNval = 0x020, kRdNorm = 0x040, kRdBand = 0x080, kWrNorm = 0x100,
                          kWrBand = 0x200, kMsg = 0x400, kRdHup = 0x2000;
inline constexpr uint32_t kReadable = kIn | kRdNorm;
inline constexpr uint32_t kWritable = kOut | kWrNorm;
}  // namespace ev

// An interest in one file's readiness (an epoll entry; a socket's waiters would be others).
// Linked into the file it watches, so a file reaches its watchers without a search and takes
// them away when it is destroyed.
class ReadinessWatch {
public:
    // `events`: what may have become true (POLLIN after a write, POLLOUT after a read,
    // POLLHUP when the other side went away); 0 when the file does not say.
    virtual void readiness_changed(uint32_t events) = 0;
    // The watched file is being destroyed; the watch is already unlinked from it.
    virtual void file_closed() = 0;
    // Who holds the watch (an epoll instance): how it finds its own among a file's watches.
    virtual const void* owner_object() const = 0;
    File* watched() const { return m_file; }
    ReadinessWatch* next_watch() const { return m_next; }

protected:
    ~ReadinessWatch() = default;

private:
    friend class File;
    File* m_file = nullptr;
    ReadinessWatch* m_next = nullptr;
    ReadinessWatch* m_prev = nullptr;
};

// Waiting on a file whose readiness changes unannounced (File::polled()): the waiter sleeps
// 1 ms, then twice as long after each fruitless look, up to 50 ms, so that input arriving
// soon is seen soon and an idle wait costs a wakeup every 50 ms. (Where ring 0 is emulated a
// wakeup costs a few ms of CPU: at 16 ms a blocked console reader took a quarter of the CPU
// from a computing thread, at 50 ms 2-12%.)
class PolledBackoff {
public:
    // The deadline to sleep until from `now`, never after `deadline`.
    uint64_t next(uint64_t now, uint64_t deadline) {
        uint64_t wake = now + m_step;
        m_step = m_step * 2 < kMaxStep ? m_step * 2 : kMaxStep;
        return wake < deadline ? wake : deadline;
    }
    void reset() { m_step = kFirstStep; }

private:
    static constexpr uint64_t kFirstStep = 1'000'000, kMaxStep = 50'000'000;
    uint64_t m_step = kFirstStep;
};

}  // namespace kernel::fs
