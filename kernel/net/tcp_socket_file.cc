// TCP sockets: the blocking and non-blocking forms of the socket calls over lib::net's
// always-non-blocking TcpSocket, waiting for readiness in between.
#include "kernel/net/tcp_socket_file.h"

#include "kernel/mm/heap.h"
#include "kernel/net/inet_address.h"
#include "kernel/net/network.h"

namespace kernel::net {

namespace {

// IPPROTO_TCP options (uapi/linux/tcp.h).
constexpr int kTcpNodelay = 1, kTcpMaxseg = 2, kTcpCork = 3, kTcpKeepidle = 4, kTcpKeepintvl = 5,
              kTcpKeepcnt = 6, kTcpSyncnt = 7, kTcpLinger2 = 8, kTcpDeferAccept = 9,
              kTcpWindowClamp = 10, kTcpInfo = 11, kTcpQuickack = 12, kTcpCongestion = 13,
              kTcpUserTimeout = 18, kTcpFastopen = 23, kTcpNotsentLowat = 25;
constexpr int kSoReuseaddr = 2, kSoSndbuf = 7, kSoRcvbuf = 8, kSoKeepalive = 9, kSoLinger = 13,
              kSoReuseport = 15;
constexpr int kIpTos = 1, kIpTtl = 2;
constexpr size_t kChunk = 4096;
}  // namespace

lib::Result<SocketFile*> TcpSocketFile::create(int flags) {
    lib::net::TcpSocket* socket = TRY(tcp().create());
    auto* file = mm::try_make<TcpSocketFile>(*socket, flags);
    if (!file) {
        socket->close();
        return lib::Errno::NoMem;
    }
    return static_cast<SocketFile*>(file);
}

TcpSocketFile::TcpSocketFile(lib::net::TcpSocket& socket, int flags)
    : SocketFile(kAfInet, kSockStream, flags), m_socket(socket) {
    m_socket.set_observer(this);
}

TcpSocketFile::~TcpSocketFile() {
    m_socket.set_observer(nullptr);
    m_socket.close();
    after_operation();
}

lib::ErrorOr TcpSocketFile::bind(const SockAddress& address) {
    auto result = m_socket.bind(TRY(to_endpoint(address)));
    after_operation();
    return result;
}

lib::ErrorOr TcpSocketFile::connect(const SockAddress& address) {
    lib::net::Endpoint remote = TRY(to_endpoint(address));
    if (m_connecting) {
        // A second connect after a non-blocking one: Linux reports the outcome once.
        if (m_socket.state() == lib::net::TcpState::SynSent) return lib::Errno::Already;
        m_connecting = false;
        if (int error = take_error()) return lib::Errno(error);
        return lib::Errno::IsConn;
    }
    auto started = m_socket.connect(remote);
    after_operation();
    if (started.is_error() && started.error() != lib::Errno::InProgress) return started;
    if (m_nonblocking) {
        m_connecting = true;
        return lib::Errno::InProgress;
    }
    auto waited = wait_for(fs::ev::kOut, true);
    if (waited.is_error()) {
        m_connecting = true;  // still under way; a later connect reports it
        return waited.error() == lib::Errno::Again ? lib::Errno::InProgress : waited.error();
    }
    if (int error = take_error()) return lib::Errno(error);
    if (m_socket.state() != lib::net::TcpState::Established &&
        m_socket.state() != lib::net::TcpState::CloseWait)
        return lib::Errno::ConnRefused;
    return {};
}

lib::ErrorOr TcpSocketFile::listen(int backlog) {
    auto result = m_socket.listen(backlog);
    after_operation();
    return result;
}

lib::Result<SocketFile*> TcpSocketFile::accept(int flags, SockAddress* peer) {
    for (;;) {
        auto accepted = m_socket.accept();
        after_operation();
        if (accepted.has_value()) {
            lib::net::TcpSocket* connection = accepted.value();
            auto* file = mm::try_make<TcpSocketFile>(*connection, flags);
            if (!file) {
                connection->close();
                return lib::Errno::NoMem;
            }
            if (peer) *peer = from_endpoint(connection->remote());
            return static_cast<SocketFile*>(file);
        }
        if (accepted.error() != lib::Errno::Again || m_nonblocking) return accepted.error();
        TRY(wait_for(fs::ev::kIn, false));
    }
}

// Sends all of `data` (blocking) or what fits (non-blocking); how much went.
lib::Result<size_t> TcpSocketFile::send_chunk(std::span<const uint8_t> data, int flags,
                                              bool blocking) {
    size_t sent = 0;
    while (sent < data.size()) {
        auto queued = m_socket.send(data.subspan(sent), flags & kMsgMore);
        if (queued.has_value()) {
            sent += queued.value();
            continue;
        }
        if (queued.error() != lib::Errno::Again || !blocking) {
            if (sent) break;
            return queued.error();
        }
        after_operation();
        auto waited = wait_for(fs::ev::kOut, true);
        if (waited.is_error()) {
            if (sent) break;
            return waited.error();
        }
    }
    return sent;
}

lib::Result<size_t> TcpSocketFile::send(SendRequest& request) {
    if (request.flags & kMsgOob) return lib::Errno::OpNotSupp;
    bool blocking = !nonblocking(request.flags);
    uint8_t bounce[kChunk];
    size_t total = 0;
    lib::ErrorOr failure;
    while (request.data->remaining() > 0) {
        auto pulled = request.data->pull({reinterpret_cast<char*>(bounce), kChunk});
        if (pulled.is_error()) {
            failure = pulled.error();
            break;
        }
        auto sent = send_chunk({bounce, pulled.value()}, request.flags, blocking);
        if (sent.is_error()) {
            failure = sent.error();
            break;
        }
        total += sent.value();
        if (sent.value() < pulled.value()) break;  // full (non-blocking) or interrupted
    }
    if (request.data->total() == 0 && m_socket.state() != lib::net::TcpState::Established &&
        m_socket.state() != lib::net::TcpState::CloseWait)
        failure =
            m_socket.state() == lib::net::TcpState::Closed ? lib::Errno::NotConn : lib::Errno::Pipe;
    after_operation();
    if (total) return total;
    if (failure.is_error()) {
        if (failure.error() == lib::Errno::Pipe && !(request.flags & kMsgNosignal)) raise_sigpipe();
        return failure.error();
    }
    return size_t{0};
}

lib::Result<size_t> TcpSocketFile::receive(ReceiveRequest& request) {
    if (request.flags & kMsgOob) return lib::Errno::Inval;
    bool peek = request.flags & kMsgPeek;
    bool wait_all = (request.flags & kMsgWaitall) && !peek;
    uint8_t bounce[kChunk];
    size_t total = 0;
    while (request.data->remaining() > 0) {
        size_t want = request.data->remaining() < kChunk ? request.data->remaining() : kChunk;
        auto got = m_socket.recv({bounce, want}, peek);
        if (got.has_value()) {
            if (got.value() == 0) break;  // the peer's FIN
            auto pushed = request.data->push({reinterpret_cast<char*>(bounce), got.value()});
            if (pushed.is_error()) {
                if (total) break;
                return pushed.error();
            }
            total += got.value();
            if (peek) break;
            continue;
        }
        if (got.error() != lib::Errno::Again) {
            if (total) break;
            after_operation();
            return got.error();
        }
        if (total && !wait_all) break;
        if (nonblocking(request.flags)) {
            if (total) break;
            after_operation();
            return lib::Errno::Again;
        }
        after_operation();  // the window update for what was read goes out before sleeping
        auto waited = wait_for(fs::ev::kIn | fs::ev::kRdHup, false);
        if (waited.is_error()) {
            if (total) break;
            return waited.error();
        }
    }
    after_operation();
    if (request.from) *request.from = from_endpoint(m_socket.remote());
    return total;
}

lib::ErrorOr TcpSocketFile::shutdown(int how) {
    if (how < kShutRd || how > kShutRdwr) return lib::Errno::Inval;
    auto result = m_socket.shutdown(how != kShutWr, how != kShutRd);
    after_operation();
    return result;
}

lib::ErrorOr TcpSocketFile::local_name(SockAddress& out) {
    out = from_endpoint(m_socket.local());
    return {};
}

lib::ErrorOr TcpSocketFile::peer_name(SockAddress& out) {
    switch (m_socket.state()) {
        case lib::net::TcpState::Closed:
        case lib::net::TcpState::Listen:
        case lib::net::TcpState::SynSent:
            return lib::Errno::NotConn;
        default:
            out = from_endpoint(m_socket.remote());
            return {};
    }
}

lib::ErrorOr TcpSocketFile::set_kind_option(int level, int name, const OptionValue& value) {
    lib::net::TcpOptions& options = m_socket.options();
    int v = value.as_int();
    if (value.length < 4 && !(level == kSolSocket && name == kSoLinger)) return lib::Errno::Inval;
    if (level == kSolSocket) {
        switch (name) {
            case kSoReuseaddr:
                options.reuse_address = v;
                break;
            case kSoReuseport:
                options.reuse_port = v;
                break;
            case kSoKeepalive:
                options.keepalive = v;
                break;
            case kSoSndbuf:
                options.send_buffer = socket_buffer_size(v);
                break;
            case kSoRcvbuf:
                options.receive_buffer = socket_buffer_size(v);
                break;
            case kSoLinger: {
                if (value.length < 8) return lib::Errno::Inval;
                int seconds;
                __builtin_memcpy(&seconds, value.bytes + 4, 4);
                options.linger_s = v ? (seconds < 0 ? 0 : seconds) : -1;
                break;
            }
            default:
                return lib::Errno::NoProtoOpt;
        }
    } else if (level == kIpprotoTcp) {
        switch (name) {
            case kTcpNodelay:
                options.nodelay = v;
                break;
            case kTcpCork:
                options.cork = v;
                break;
            case kTcpMaxseg:
                if (v < 0 || v > 65535 || (v && v < 88)) return lib::Errno::Inval;
                options.max_segment = uint16_t(v);
                break;
            case kTcpKeepidle:
            case kTcpKeepintvl:
                if (v < 1 || v > 32767) return lib::Errno::Inval;
                (name == kTcpKeepidle ? options.keepalive_idle_s : options.keepalive_interval_s) =
                    uint32_t(v);
                break;
            case kTcpKeepcnt:
                if (v < 1 || v > 127) return lib::Errno::Inval;
                options.keepalive_count = uint32_t(v);
                break;
            case kTcpUserTimeout:
                if (v < 0) return lib::Errno::Inval;
                options.user_timeout_ms = uint32_t(v);
                break;
            case kTcpQuickack:
            case kTcpDeferAccept:
            case kTcpSyncnt:
            case kTcpLinger2:
            case kTcpWindowClamp:
            case kTcpFastopen:
            case kTcpNotsentLowat:
                return {};  // hints this stack does without
            default:
                return lib::Errno::NoProtoOpt;
        }
    } else if (level == kIpprotoIp) {
        if (name == kIpTos || name == kIpTtl) return {};
        return lib::Errno::NoProtoOpt;
    } else {
        return lib::Errno::NoProtoOpt;
    }
    m_socket.options_changed();
    after_operation();
    return {};
}

lib::ErrorOr TcpSocketFile::get_kind_option(int level, int name, OptionValue& value) {
    const lib::net::TcpOptions& options = m_socket.options();
    if (level == kSolSocket) {
        switch (name) {
            case kSoReuseaddr:
                value.set_int(options.reuse_address);
                return {};
            case kSoReuseport:
                value.set_int(options.reuse_port);
                return {};
            case kSoKeepalive:
                value.set_int(options.keepalive);
                return {};
            case kSoSndbuf:
                value.set_int(int(options.send_buffer));
                return {};
            case kSoRcvbuf:
                value.set_int(int(options.receive_buffer));
                return {};
            case kSoLinger: {
                value.set_int(options.linger_s >= 0);
                int seconds = options.linger_s >= 0 ? options.linger_s : 0;
                __builtin_memcpy(value.bytes + 4, &seconds, 4);
                value.length = 8;
                return {};
            }
            default:
                return lib::Errno::NoProtoOpt;
        }
    }
    if (level == kIpprotoTcp) {
        switch (name) {
            case kTcpNodelay:
                value.set_int(options.nodelay);
                return {};
            case kTcpCork:
                value.set_int(options.cork);
                return {};
            case kTcpMaxseg:
                value.set_int(options.max_segment ? options.max_segment : 1460);
                return {};
            case kTcpKeepidle:
                value.set_int(int(options.keepalive_idle_s));
                return {};
            case kTcpKeepintvl:
                value.set_int(int(options.keepalive_interval_s));
                return {};
            case kTcpKeepcnt:
                value.set_int(int(options.keepalive_count));
                return {};
            case kTcpUserTimeout:
                value.set_int(int(options.user_timeout_ms));
                return {};
            case kTcpInfo: {
                // struct tcp_info starts with tcpi_state (Linux's TCP_* numbering).
                static constexpr uint8_t kLinuxState[] = {7, 10, 2, 3, 1, 4, 5, 8, 11, 9, 6};
                value.length = sizeof value.bytes;
                __builtin_memset(value.bytes, 0, sizeof value.bytes);
                value.bytes[0] = kLinuxState[int(m_socket.state())];
                return {};
            }
            case kTcpCongestion: {
                static constexpr char kName[] = "reno";
                __builtin_memcpy(value.bytes, kName, sizeof kName);
                value.length = 16;
                return {};
            }
            default:
                return lib::Errno::NoProtoOpt;
        }
    }
    return lib::Errno::NoProtoOpt;
}

uint32_t TcpSocketFile::poll_events() { return m_socket.poll_events(); }

}  // namespace kernel::net
