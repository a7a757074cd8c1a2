// UDP sockets: one datagram per send and per receive, gathered from and scattered to the
// caller's buffers through a bounce buffer as large as the largest datagram.
#include "kernel/net/udp_socket_file.h"

#include "kernel/mm/heap.h"
#include "kernel/net/inet_address.h"
#include "kernel/net/network.h"

namespace kernel::net {

namespace {

constexpr size_t kMaxDatagram = 65507;  // 65535 - IPv4 header - UDP header
constexpr int kSoReuseaddr = 2, kSoBroadcast = 6, kSoSndbuf = 7, kSoRcvbuf = 8, kSoReuseport = 15;
constexpr int kIpTos = 1, kIpTtl = 2, kIpPktinfo = 8, kIpRecverr = 11, kIpMtuDiscover = 10,
              kIpMulticastTtl = 33, kIpMulticastLoop = 34;
// A datagram's worth of kernel memory for the length of one call.
class Bounce {
public:
    explicit Bounce(size_t size) : m_data(static_cast<uint8_t*>(mm::kmalloc(size ? size : 1))) {}
    Bounce(const Bounce&) = delete;
    Bounce& operator=(const Bounce&) = delete;
    ~Bounce() { mm::kfree(m_data); }
    uint8_t* data() const { return m_data; }

private:
    uint8_t* m_data;
};

}  // namespace

lib::Result<SocketFile*> UdpSocketFile::create(int flags) {
    lib::net::UdpSocket* socket = TRY(udp().create());
    auto* file = mm::try_make<UdpSocketFile>(*socket, flags);
    if (!file) {
        socket->close();
        return lib::Errno::NoMem;
    }
    return static_cast<SocketFile*>(file);
}

UdpSocketFile::UdpSocketFile(lib::net::UdpSocket& socket, int flags)
    : SocketFile(kAfInet, kSockDgram, flags), m_socket(socket) {
    m_socket.set_observer(this);
}

UdpSocketFile::~UdpSocketFile() {
    m_socket.set_observer(nullptr);
    m_socket.close();
    after_operation();
}

lib::ErrorOr UdpSocketFile::bind(const SockAddress& address) {
    return m_socket.bind(TRY(to_endpoint(address)));
}

lib::ErrorOr UdpSocketFile::connect(const SockAddress& address) {
    return m_socket.connect(TRY(to_endpoint(address, true)));
}

lib::Result<size_t> UdpSocketFile::send(SendRequest& request) {
    size_t length = request.data->total();
    if (length > kMaxDatagram) return lib::Errno::MsgSize;
    std::optional<lib::net::Endpoint> to;
    if (request.to) to = TRY(to_endpoint(*request.to));
    Bounce bounce(length);
    if (!bounce.data()) return lib::Errno::NoMem;
    TRY(request.data->pull({reinterpret_cast<char*>(bounce.data()), length}));
    auto sent = m_socket.send_to({bounce.data(), length}, to);
    after_operation();
    return sent;
}

lib::Result<size_t> UdpSocketFile::receive(ReceiveRequest& request) {
    bool peek = request.flags & kMsgPeek;
    for (;;) {
        size_t want = m_socket.next_datagram_size();
        if (want > request.data->remaining()) want = request.data->remaining();
        Bounce bounce(want);
        if (!bounce.data()) return lib::Errno::NoMem;
        auto got = m_socket.receive_from({bounce.data(), want}, peek);
        if (got.has_value()) {
            const auto& received = got.value();
            TRY(request.data->push(
                {reinterpret_cast<const char*>(bounce.data()), received.copied}));
            if (received.length > received.copied) request.out_flags |= kMsgTrunc;
            if (request.from) *request.from = from_endpoint(received.from);
            after_operation();
            return (request.flags & kMsgTrunc) ? received.length : received.copied;
        }
        if (got.error() != lib::Errno::Again || nonblocking(request.flags)) return got.error();
        TRY(wait_for(fs::ev::kIn, false));
    }
}

lib::ErrorOr UdpSocketFile::shutdown(int how) {
    if (how < kShutRd || how > kShutRdwr) return lib::Errno::Inval;
    return m_socket.shutdown(how != kShutWr, how != kShutRd);
}

lib::ErrorOr UdpSocketFile::local_name(SockAddress& out) {
    out = from_endpoint(m_socket.local());
    return {};
}

lib::ErrorOr UdpSocketFile::peer_name(SockAddress& out) {
    auto remote = m_socket.remote();
    if (!remote) return lib::Errno::NotConn;
    out = from_endpoint(*remote);
    return {};
}

lib::ErrorOr UdpSocketFile::set_kind_option(int level, int name, const OptionValue& value) {
    if (value.length < 1) return lib::Errno::Inval;
    int v = value.as_int();
    if (level == kSolSocket) {
        switch (name) {
            case kSoReuseaddr:
                m_reuse_address = v;
                break;
            case kSoReuseport:
                m_reuse_port = v;
                break;
            case kSoBroadcast:
                m_broadcast = v;
                m_socket.set_broadcast(v);
                return {};
            case kSoRcvbuf:
                m_receive_buffer = socket_buffer_size(v);
                m_socket.set_receive_buffer(m_receive_buffer);
                return {};
            case kSoSndbuf:
                m_send_buffer = socket_buffer_size(v);
                m_socket.set_send_buffer(m_send_buffer);
                return {};
            default:
                return lib::Errno::NoProtoOpt;
        }
        m_socket.set_reuse(m_reuse_address, m_reuse_port);
        return {};
    }
    if (level == kIpprotoIp) {
        switch (name) {
            case kIpTos:
            case kIpTtl:
            case kIpPktinfo:
            case kIpRecverr:
            case kIpMtuDiscover:
            case kIpMulticastTtl:
            case kIpMulticastLoop:
                return {};
            default:
                return lib::Errno::NoProtoOpt;
        }
    }
    return lib::Errno::NoProtoOpt;
}

lib::ErrorOr UdpSocketFile::get_kind_option(int level, int name, OptionValue& value) {
    if (level != kSolSocket) return lib::Errno::NoProtoOpt;
    switch (name) {
        case kSoReuseaddr:
            value.set_int(m_reuse_address);
            return {};
        case kSoReuseport:
            value.set_int(m_reuse_port);
            return {};
        case kSoBroadcast:
            value.set_int(m_broadcast);
            return {};
        case kSoRcvbuf:
            value.set_int(int(m_receive_buffer));
            return {};
        case kSoSndbuf:
            value.set_int(int(m_send_buffer));
            return {};
        default:
            return lib::Errno::NoProtoOpt;
    }
}

}  // namespace kernel::net
