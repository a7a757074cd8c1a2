// eventfd reads and writes (Linux fs/eventfd.c semantics).
#include "kernel/fs/eventfd.h"

#include "kernel/fs/anon_inode.h"

namespace kernel::fs {

lib::Result<size_t> EventFd::read(std::span<char> buffer) {
    if (buffer.size() < sizeof(uint64_t)) return lib::Errno::Inval;
    if (m_count == 0) {
        if (nonblocking()) return lib::Errno::Again;
        auto reason = sched::wait_event(m_waiters, sched::kForever, [this] { return m_count > 0; });
        if (reason == sched::WakeReason::Interrupted) return lib::Errno::Intr;
    }
    uint64_t value = (m_flags & kSemaphore) ? 1 : m_count;
    bool was_full = m_count == kMax;
    m_count -= value;
    __builtin_memcpy(buffer.data(), &value, sizeof value);
    if (!m_waiters.empty()) m_waiters.wake_all();
    announce(ev::kWritable, was_full);
    return sizeof value;
}

lib::Result<size_t> EventFd::write(std::span<const char> data) {
    if (data.size() < sizeof(uint64_t)) return lib::Errno::Inval;
    uint64_t value;
    __builtin_memcpy(&value, data.data(), sizeof value);
    if (value == UINT64_MAX) return lib::Errno::Inval;
    if (kMax - m_count < value) {
        if (nonblocking()) return lib::Errno::Again;
        auto reason = sched::wait_event(m_waiters, sched::kForever,
                                        [this, value] { return kMax - m_count >= value; });
        if (reason == sched::WakeReason::Interrupted) return lib::Errno::Intr;
    }
    bool was_zero = m_count == 0;
    m_count += value;
    if (value) {
        if (!m_waiters.empty()) m_waiters.wake_all();
        announce(ev::kReadable, was_zero);
    }
    return sizeof value;
}

lib::ErrorOr EventFd::stat(sys::LinuxStat& out) {
    anon_inode_stat(out);
    return {};
}

uint32_t EventFd::poll_events() {
    return (m_count > 0 ? ev::kReadable : 0) | (m_count < kMax ? ev::kWritable : 0);
}

}  // namespace kernel::fs
