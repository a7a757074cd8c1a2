// signalfd files over the pending sets of kernel/proc/signal_state.h.
#include "kernel/fs/signalfd.h"

#include "kernel/proc/signal_state.h"
#include "kernel/sched/wait.h"
#include "kernel/sys/linux_types.h"

namespace kernel::fs {

namespace {

constexpr int kONonblock = 04000, kReadWrite = 02;

SignalFd* g_signalfds = nullptr;

sched::WaitQueue& readers() {
    static sched::WaitQueue queue;
    return queue;
}

// Linux's signalfd_copyinfo(): the fields the siginfo's layout (its si_code) carries.
proc::SignalfdSiginfo to_signalfd(const proc::SigInfo& info) {
    proc::SignalfdSiginfo out{};
    out.signo = uint32_t(info.signo);
    out.error = info.error;
    out.code = info.code;
    if (info.code == proc::kSiTimer) {
        out.tid = uint32_t(info.timer.id);
        out.overrun = uint32_t(info.timer.overrun);
        out.ptr = info.timer.value;
        out.int_value = int32_t(info.timer.value);
    } else if (info.code > 0 && info.code != proc::kSiKernel) {
        out.addr = info.fault.addr;
    } else {
        out.pid = uint32_t(info.sender.pid);
        out.uid = info.sender.uid;
        if (info.code == proc::kSiQueue) {
            out.ptr = info.sender.value;
            out.int_value = int32_t(info.sender.value);
        }
    }
    return out;
}

bool any_pending(uint64_t mask) { return (proc::pending_signals(sched::current()) & mask) != 0; }

}  // namespace

SignalFd::SignalFd(uint64_t mask, bool nonblocking) : m_mask(mask), m_nonblocking(nonblocking) {
    m_next = g_signalfds;
    g_signalfds = this;
}

SignalFd::~SignalFd() {
    for (SignalFd** link = &g_signalfds; *link; link = &(*link)->m_next) {
        if (*link == this) {
            *link = m_next;
            break;
        }
    }
}

lib::Result<size_t> SignalFd::read(std::span<char> buffer) {
    constexpr size_t kRecord = sizeof(proc::SignalfdSiginfo);
    if (buffer.size() < kRecord) return lib::Errno::Inval;
    for (;;) {
        size_t done = 0;
        proc::SigInfo info;
        while (done + kRecord <= buffer.size() &&
               proc::take_signal(sched::current(), m_mask, info)) {
            proc::SignalfdSiginfo record = to_signalfd(info);
            __builtin_memcpy(buffer.data() + done, &record, kRecord);
            done += kRecord;
        }
        if (done) return done;
        if (m_nonblocking) return lib::Errno::Again;
        auto reason =
            sched::wait_event(readers(), sched::kForever, [&] { return any_pending(m_mask); });
        if (reason != sched::WakeReason::Woken) return lib::Errno::Intr;
    }
}

lib::Result<size_t> SignalFd::write(std::span<const char>) { return lib::Errno::Inval; }

lib::ErrorOr SignalFd::stat(sys::LinuxStat& out) {
    out = {};
    out.mode = 0600;  // an anonymous inode: no file type bits, as on Linux
    out.nlink = 1;
    out.blksize = 4096;
    return {};
}

uint32_t SignalFd::poll_events() { return any_pending(m_mask) ? ev::kReadable : 0; }

int SignalFd::status_flags() const { return kReadWrite | (m_nonblocking ? kONonblock : 0); }

void SignalFd::set_status_flags(int flags) { m_nonblocking = (flags & kONonblock) != 0; }

SignalFd* as_signalfd(File* file) {
    for (SignalFd* fd = g_signalfds; fd; fd = fd->m_next)
        if (fd == file) return fd;
    return nullptr;
}

void signalfd_notify() {
    if (!readers().empty()) readers().wake_all();
    for (SignalFd* fd = g_signalfds; fd; fd = fd->m_next) fd->signal_arrived();
    sched::notify_readiness();
}

}  // namespace kernel::fs
