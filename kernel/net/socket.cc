// The socket base: generic options, waiting, and the file operations in terms of send and
// receive.
#include "kernel/net/socket.h"

#include "kernel/fs/anon_inode.h"
#include "kernel/mm/user_ptr.h"
#include "kernel/net/interface_ioctl.h"
#include "kernel/proc/signal_state.h"
#include "kernel/sched/scheduler.h"
#include "kernel/sys/linux_types.h"
#include "kernel/time/clock.h"

namespace kernel::net {

namespace {

// SOL_SOCKET option names (uapi/asm-generic/socket.h).
constexpr int kSoDebug = 1, kSoReuseaddr = 2, kSoType = 3, kSoError = 4, kSoDontroute = 5,
              kSoBroadcast = 6, kSoSndbuf = 7, kSoRcvbuf = 8, kSoKeepalive = 9, kSoOobinline = 10,
              kSoLinger = 13, kSoReuseport = 15, kSoRcvlowat = 18, kSoSndlowat = 19,
              kSoRcvtimeo = 20, kSoSndtimeo = 21, kSoAcceptconn = 30, kSoSndbufforce = 32,
              kSoRcvbufforce = 33, kSoProtocol = 38, kSoDomain = 39;
// ioctls (uapi/asm-generic/ioctls.h, sockios.h).
constexpr uint32_t kFionread = 0x541b, kFionbio = 0x5421, kTiocoutq = 0x5411;
constexpr int kSigPipe = 13;

uint64_t g_next_id = 1;

lib::Result<uint64_t> timeout_ns(const OptionValue& value) {
    if (value.length < sizeof(sys::TimeVal)) return lib::Errno::Inval;
    sys::TimeVal tv;
    __builtin_memcpy(&tv, value.bytes, sizeof tv);
    if (tv.seconds < 0 || tv.microseconds < 0 || tv.microseconds >= 1'000'000)
        return tv.seconds < 0 ? lib::Result<uint64_t>(0) : lib::Errno::Dom;
    if (uint64_t(tv.seconds) > 100'000'000'000ull) return uint64_t(0);  // forever
    return uint64_t(tv.seconds) * 1'000'000'000 + uint64_t(tv.microseconds) * 1000;
}

void put_timeout(OptionValue& value, uint64_t ns) {
    sys::TimeVal tv{int64_t(ns / 1'000'000'000), int64_t(ns % 1'000'000'000 / 1000)};
    __builtin_memcpy(value.bytes, &tv, sizeof tv);
    value.length = sizeof tv;
}

}  // namespace

int OptionValue::as_int() const {
    if (length < 4) return length ? bytes[0] : 0;
    int v;
    __builtin_memcpy(&v, bytes, 4);
    return v;
}

void OptionValue::set_int(int value) {
    __builtin_memcpy(bytes, &value, 4);
    length = 4;
}

SocketFile::SocketFile(int domain, int type, int flags)
    : m_nonblocking(flags & kSockNonblock), m_domain(domain), m_type(type), m_id(g_next_id++) {}

lib::ErrorOr SocketFile::bind(const SockAddress&) { return lib::Errno::OpNotSupp; }
lib::ErrorOr SocketFile::connect(const SockAddress&) { return lib::Errno::OpNotSupp; }
lib::ErrorOr SocketFile::listen(int) { return lib::Errno::OpNotSupp; }
lib::Result<SocketFile*> SocketFile::accept(int, SockAddress*) { return lib::Errno::OpNotSupp; }
lib::ErrorOr SocketFile::shutdown(int) { return lib::Errno::OpNotSupp; }
lib::ErrorOr SocketFile::peer_name(SockAddress&) { return lib::Errno::NotConn; }
lib::ErrorOr SocketFile::set_kind_option(int, int, const OptionValue&) {
    return lib::Errno::NoProtoOpt;
}
lib::ErrorOr SocketFile::get_kind_option(int, int, OptionValue&) { return lib::Errno::NoProtoOpt; }

lib::ErrorOr SocketFile::set_option(int level, int name, const OptionValue& value) {
    if (level == kSolSocket) {
        switch (name) {
            case kSoRcvtimeo:
                m_receive_timeout_ns = TRY(timeout_ns(value));
                return {};
            case kSoSndtimeo:
                m_send_timeout_ns = TRY(timeout_ns(value));
                return {};
            case kSoDebug:
            case kSoDontroute:
            case kSoOobinline:
            case kSoRcvlowat:
            case kSoSndlowat:
                return {};  // accepted and without effect here, as far as a program can tell
            case kSoType:
            case kSoError:
            case kSoAcceptconn:
            case kSoProtocol:
            case kSoDomain:
                return lib::Errno::NoProtoOpt;  // read-only
            default:
                break;
        }
    }
    auto handled = set_kind_option(level, name, value);
    // Options every socket takes even where the kind gives them no meaning (SO_REUSEADDR on
    // a unix socket, SO_KEEPALIVE on UDP): Linux stores them without complaint.
    if (handled.is_error() && handled.error() == lib::Errno::NoProtoOpt && level == kSolSocket &&
        (name == kSoReuseaddr || name == kSoReuseport || name == kSoKeepalive ||
         name == kSoBroadcast || name == kSoSndbuf || name == kSoRcvbuf || name == kSoLinger ||
         name == kSoSndbufforce || name == kSoRcvbufforce))
        return {};
    return handled;
}

lib::ErrorOr SocketFile::get_option(int level, int name, OptionValue& value) {
    if (level == kSolSocket) {
        switch (name) {
            case kSoType:
                value.set_int(m_type);
                return {};
            case kSoDomain:
                value.set_int(m_domain);
                return {};
            case kSoProtocol:
                value.set_int(
                    m_domain == kAfInet ? (m_type == kSockStream ? kIpprotoTcp : kIpprotoUdp) : 0);
                return {};
            case kSoError:
                value.set_int(take_error());
                return {};
            case kSoAcceptconn:
                value.set_int(listening());
                return {};
            case kSoRcvtimeo:
                put_timeout(value, m_receive_timeout_ns);
                return {};
            case kSoSndtimeo:
                put_timeout(value, m_send_timeout_ns);
                return {};
            default:
                break;
        }
    }
    auto handled = get_kind_option(level, name, value);
    if (handled.is_error() && handled.error() == lib::Errno::NoProtoOpt && level == kSolSocket &&
        (name == kSoReuseaddr || name == kSoReuseport || name == kSoKeepalive ||
         name == kSoBroadcast || name == kSoDebug || name == kSoDontroute ||
         name == kSoOobinline)) {
        value.set_int(0);
        return {};
    }
    if (handled.is_error() && handled.error() == lib::Errno::NoProtoOpt && level == kSolSocket &&
        name == kSoLinger) {
        value.set_int(0);
        value.bytes[4] = value.bytes[5] = value.bytes[6] = value.bytes[7] = 0;
        value.length = 8;
        return {};
    }
    return handled;
}

lib::ErrorOr SocketFile::wait_for(uint32_t events, bool sending) {
    uint64_t timeout = sending ? m_send_timeout_ns : m_receive_timeout_ns;
    uint64_t deadline = timeout ? time::monotonic_ns() + timeout : sched::kForever;
    constexpr uint32_t kAlways = fs::ev::kErr | fs::ev::kHup;
    auto reason = sched::wait_event(m_waiters, deadline,
                                    [&] { return (poll_events() & (events | kAlways)) != 0; });
    if (reason == sched::WakeReason::Interrupted) return lib::Errno::Intr;
    if (reason == sched::WakeReason::TimedOut) return lib::Errno::Again;
    return {};
}

void SocketFile::readiness_changed(uint32_t events) {
    if (!m_waiters.empty()) m_waiters.wake_all();
    announce(events);
}

lib::Result<size_t> SocketFile::read(std::span<char> buffer) {
    UserIo io = UserIo::kernel(buffer.data(), buffer.size());
    ReceiveRequest request{&io};
    return receive(request);
}

lib::Result<size_t> SocketFile::write(std::span<const char> data) {
    UserIo io = UserIo::kernel(const_cast<char*>(data.data()), data.size());
    SendRequest request{&io};
    return send(request);
}

lib::Result<size_t> SocketFile::read_user(uint64_t address, size_t count) {
    UserIo io = UserIo::single(address, count);
    ReceiveRequest request{&io};
    return receive(request);
}

lib::Result<size_t> SocketFile::write_user(uint64_t address, size_t count) {
    UserIo io = UserIo::single(address, count);
    SendRequest request{&io};
    return send(request);
}

lib::Result<int64_t> SocketFile::ioctl(uint32_t request, uint64_t argument) {
    switch (request) {
        case kFionread: {
            if (listening()) return lib::Errno::Inval;
            int value = int(readable_bytes());
            TRY(mm::copy_to_user(mm::UserOut<int>(argument), value));
            return 0;
        }
        case kTiocoutq: {
            int value = 0;
            TRY(mm::copy_to_user(mm::UserOut<int>(argument), value));
            return 0;
        }
        case kFionbio: {
            int value;
            TRY(mm::copy_from_user(value, mm::UserIn<int>(argument)));
            m_nonblocking = value != 0;
            return 0;
        }
        default:
            return interface_ioctl(request, argument);
    }
}

lib::ErrorOr SocketFile::stat(sys::LinuxStat& out) {
    fs::anon_inode_stat(out);
    out.mode = 0140777;  // S_IFSOCK
    out.ino = m_id;
    return {};
}

void SocketFile::describe(lib::FormatSink& out) const { lib::format_to(out, "socket:[{}]", m_id); }

uint32_t socket_buffer_size(int requested) {
    constexpr uint32_t kMinBuffer = 4608, kMaxBuffer = 4u << 20;
    uint64_t doubled = requested < 0 ? 0 : uint64_t(requested) * 2;
    if (doubled < kMinBuffer) return kMinBuffer;
    return doubled > kMaxBuffer ? kMaxBuffer : uint32_t(doubled);
}

void raise_sigpipe() { proc::send_signal(&sched::current(), kSigPipe); }

}  // namespace kernel::net
