// TcpSocket, the handle the kernel's socket files hold: the socket calls of tcp.h over a
// TcpConnection, readiness, and the state changes an owner causes (connect, shutdown, close).
#include "lib/net/tcp_connection.h"

namespace lib::net {

using namespace tcp_const;

const char* tcp_state_name(TcpState state) {
    static constexpr const char* kNames[] = {
        "CLOSED",     "LISTEN",     "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1",
        "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING",  "LAST_ACK",     "TIME_WAIT"};
    auto i = static_cast<size_t>(state);
    return i < sizeof kNames / sizeof kNames[0] ? kNames[i] : "?";
}

void TcpConnection::notify(uint32_t events) {
    if (observer) observer->socket_changed(events);
}

void TcpConnection::notify_parent() {
    if (parent && parent->observer) parent->observer->socket_changed(events::kReadable);
}

bool TcpConnection::synchronized() const {
    switch (state) {
        case TcpState::Closed:
        case TcpState::Listen:
        case TcpState::SynSent:
        case TcpState::SynReceived:
            return false;
        default:
            return true;
    }
}

void TcpConnection::release_buffers() {
    layer.buffered_bytes -= send_ring.capacity() + rcv_ring.capacity();
    send_ring.release();
    rcv_ring.release();
}

uint32_t TcpConnection::poll_events() const {
    using namespace events;
    uint32_t bits = 0;
    if (state == TcpState::Listen) return accept_head ? kReadable : 0;
    if (rcv_ring.size() > 0 || fin_received || read_shut) bits |= kReadable;
    if (fin_received || read_shut) bits |= kRdHup;
    if (error != Errno{}) bits |= kErr;
    bool can_send = state == TcpState::Established || state == TcpState::CloseWait;
    uint32_t queued = send_ring.size();
    uint32_t space = options.send_buffer > queued ? options.send_buffer - queued : 0;
    // Linux's sk_stream_is_writeable: free space of at least half what is queued.
    if (can_send && !write_shut && space > 0 && space >= queued / 2) bits |= kWritable;
    if (state == TcpState::Closed || (fin_received && write_shut)) bits |= kHup;
    if (state == TcpState::Closed && reset) bits |= kReadable | kWritable;
    return bits;
}

ErrorOr TcpConnection::start_connect(Endpoint to) {
    remote = to;
    bound = true;
    was_connected = true;
    layer.hash_insert(*this);
    iss = layer.initial_sequence(local, remote);
    snd_una = snd_nxt = snd_max = iss;
    send_seq = iss + 1;
    rcv_capacity = options.receive_buffer < 1024 ? 1024 : options.receive_buffer;
    if (rcv_capacity > kMaxWindow) rcv_capacity = kMaxWindow;
    rcv_wscale = 0;
    while (rcv_wscale < 14 && (rcv_capacity >> rcv_wscale) > 65535) ++rcv_wscale;
    wscale_ok = ts_ok = sack_ok = true;  // offered; take_syn_options keeps what the peer echoes
    ts_offset = static_cast<uint32_t>(layer.keyed(layer.misc_key, local, remote, 1));
    state = TcpState::SynSent;
    ++layer.stats.active_opens;
    send_syn();
    return {};
}

void TcpConnection::queue_fin() {
    switch (state) {
        case TcpState::SynSent:
            to_closed();
            break;
        case TcpState::SynReceived:
            fin_queued = true;  // sent once the handshake completes (handle_ack)
            break;
        case TcpState::Established:
            fin_queued = true;
            state = TcpState::FinWait1;
            output();
            break;
        case TcpState::CloseWait:
            fin_queued = true;
            state = TcpState::LastAck;
            output();
            break;
        default:
            break;
    }
}

void TcpConnection::close_listener() {
    for (TcpConnection* c = layer.all; c; c = c->all_next) {
        if (c->dead || c->parent != this) continue;
        // Connections nobody accepted are reset, as Linux's inet_csk_listen_stop does.
        if (c->synchronized()) c->send_rst(c->snd_nxt);
        c->to_closed();
    }
}

// RFC 9293 §3.8.6.2.2: after the application reads, announce a window that grew by at least
// two segments or half the buffer, so the sender is not left waiting for a tiny opening.
void TcpConnection::rcv_window_update() {
    if (!synchronized() || fin_received) return;
    uint32_t advertised = seq_gt(rcv_adv, rcv_nxt) ? rcv_adv - rcv_nxt : 0;
    uint32_t now_window = receive_window();
    if (now_window > advertised &&
        (now_window - advertised >= 2 * mss || now_window - advertised >= rcv_capacity / 2))
        send_ack();
    // Under memory pressure an idle connection gives its receive ring back.
    if (rcv_ring.size() == 0 && ooo.empty() && rcv_ring.allocated() &&
        layer.buffered_bytes > layer.limits.max_buffered_bytes / 2) {
        layer.buffered_bytes -= rcv_ring.capacity();
        rcv_ring.release();
    }
}

ErrorOr TcpSocket::bind(Endpoint local) {
    TcpConnection& c = *m_connection;
    if (c.bound || c.state != TcpState::Closed || c.was_connected) return Errno::Inval;
    if (!local.address.is_any() && !c.layer.ip.is_local(local.address)) return Errno::AddrNotAvail;
    if (local.port == 0) {
        local.port = c.layer.ephemeral_port(c, local.address);
        if (local.port == 0) return Errno::AddrInUse;
    } else if (c.layer.port_conflicts(c, local)) {
        return Errno::AddrInUse;
    }
    c.local = local;
    c.bound = true;
    return {};
}

ErrorOr TcpSocket::listen(int backlog) {
    TcpConnection& c = *m_connection;
    if (backlog < 1) backlog = 1;
    if (backlog > 4096) backlog = 4096;
    if (c.state == TcpState::Listen) {
        c.backlog = static_cast<uint32_t>(backlog);
        return {};
    }
    if (c.state != TcpState::Closed || c.was_connected) return Errno::Inval;
    if (!c.bound) TRY(bind({kAnyAddress, 0}));
    c.state = TcpState::Listen;
    if (c.layer.port_conflicts(c, c.local)) {
        c.state = TcpState::Closed;
        return Errno::AddrInUse;
    }
    c.backlog = static_cast<uint32_t>(backlog);
    c.listen_next = c.layer.listeners;
    c.layer.listeners = &c;
    return {};
}

Result<TcpSocket*> TcpSocket::accept() {
    TcpConnection& c = *m_connection;
    if (c.state != TcpState::Listen) return Errno::Inval;
    TcpConnection* child = c.accept_head;
    if (!child) return Errno::Again;
    c.accept_head = child->queue_next;
    if (!c.accept_head) c.accept_tail = nullptr;
    --c.accept_count;
    child->queue_next = nullptr;
    child->queued = false;
    child->parent = nullptr;
    return &child->socket;
}

ErrorOr TcpSocket::connect(Endpoint remote) {
    TcpConnection& c = *m_connection;
    TcpLayer::Impl& layer = c.layer;
    layer.now = layer.env.now_ns();
    if (c.state == TcpState::SynSent || c.state == TcpState::SynReceived) return Errno::Already;
    if (c.state == TcpState::Listen) return Errno::Inval;
    if (c.state != TcpState::Closed || c.was_connected) return Errno::IsConn;
    if (remote.port == 0 || remote.address.is_any() || remote.address.is_broadcast() ||
        remote.address.is_multicast())
        return Errno::Inval;
    Ipv4Address source = c.bound && !c.local.address.is_any() ? c.local.address
                                                              : layer.ip.source_for(remote.address);
    if (source.is_any() || layer.ip.mtu_to(remote.address) == 0) return Errno::NetUnreach;
    uint16_t port = c.bound ? c.local.port : layer.ephemeral_port(c, source);
    if (port == 0) return Errno::AddrNotAvail;
    Endpoint local{source, port};
    if (TcpConnection* other = layer.find(local, remote)) {
        // The same 4-tuple in TIME_WAIT may be reused with SO_REUSEADDR: the clock part of
        // the new ISN starts above the old connection's sequence space (RFC 6528 §3).
        if (other->state != TcpState::TimeWait || !c.options.reuse_address)
            return Errno::AddrNotAvail;
        other->to_closed();
    }
    c.local = local;
    TRY(c.start_connect(remote));
    layer.sweep();
    return Errno::InProgress;
}

Result<size_t> TcpSocket::send(std::span<const uint8_t> data, bool more) {
    TcpConnection& c = *m_connection;
    TcpLayer::Impl& layer = c.layer;
    layer.now = layer.env.now_ns();
    if (c.error != Errno{}) return take_error();
    if (c.write_shut || c.reset) return Errno::Pipe;
    if (!c.was_connected || c.state == TcpState::Listen) return Errno::NotConn;
    if (c.state == TcpState::SynSent || c.state == TcpState::SynReceived) return Errno::Again;
    if (c.state != TcpState::Established && c.state != TcpState::CloseWait) return Errno::Pipe;
    if (data.empty()) return size_t{0};
    if (!c.send_ring.allocated()) {
        uint32_t capacity = c.options.send_buffer < 2048 ? 2048 : c.options.send_buffer;
        if (layer.buffered_bytes + capacity > layer.limits.max_buffered_bytes) return Errno::NoBufs;
        if (!c.send_ring.allocate(capacity)) return Errno::NoMem;
        layer.buffered_bytes += capacity;
    }
    uint32_t n = c.send_ring.append(data);
    if (n == 0) return Errno::Again;
    c.more = more;
    c.output();
    layer.sweep();
    return size_t{n};
}

Result<size_t> TcpSocket::recv(std::span<uint8_t> buffer, bool peek) {
    TcpConnection& c = *m_connection;
    c.layer.now = c.layer.env.now_ns();
    if (c.rcv_ring.size() > 0 && !c.read_shut) {
        uint32_t n = c.rcv_ring.copy_out(0, buffer);
        if (!peek) {
            c.rcv_ring.consume(n);
            c.rcv_window_update();
        }
        return size_t{n};
    }
    if (c.error != Errno{}) return take_error();
    if (c.fin_received || c.read_shut) return size_t{0};
    if (c.reset) return Errno::ConnReset;
    if (!c.was_connected || c.state == TcpState::Closed || c.state == TcpState::Listen)
        return Errno::NotConn;
    return Errno::Again;
}

ErrorOr TcpSocket::shutdown(bool read, bool write) {
    TcpConnection& c = *m_connection;
    c.layer.now = c.layer.env.now_ns();
    if (!c.synchronized() && c.state != TcpState::SynSent && c.state != TcpState::SynReceived)
        return Errno::NotConn;
    if (read) c.read_shut = true;
    if (write && !c.write_shut) {
        c.write_shut = true;
        c.queue_fin();
    }
    c.notify(c.poll_events());
    c.layer.sweep();
    return {};
}

void TcpSocket::close() {
    TcpConnection& c = *m_connection;
    TcpLayer::Impl& layer = c.layer;
    layer.now = layer.env.now_ns();
    c.owner_closed = true;
    c.observer = nullptr;
    switch (c.state) {
        case TcpState::Listen:
            c.close_listener();
            c.to_closed();
            break;
        case TcpState::Closed:
        case TcpState::SynSent:
            c.to_closed();
            break;
        case TcpState::TimeWait:
            break;
        default:
            // RFC 9293 §3.10.4 / RFC 2525 §2.17: unread data, or SO_LINGER 0, means reset.
            if (c.options.linger_s == 0 || c.rcv_ring.size() > 0) {
                if (c.synchronized()) c.send_rst(c.snd_nxt);
                c.to_closed();
                break;
            }
            c.write_shut = true;
            c.queue_fin();
            if (c.state == TcpState::FinWait2) c.state_deadline = layer.now + kFinWait2;
            c.note_deadline(c.state_deadline);
            break;
    }
    layer.sweep();
}

uint32_t TcpSocket::poll_events() const { return m_connection->poll_events(); }

Errno TcpSocket::take_error() {
    Errno e = m_connection->error;
    m_connection->error = Errno{};
    return e;
}

TcpState TcpSocket::state() const { return m_connection->state; }
Endpoint TcpSocket::local() const { return m_connection->local; }
Endpoint TcpSocket::remote() const { return m_connection->remote; }
size_t TcpSocket::readable_bytes() const { return m_connection->rcv_ring.size(); }
size_t TcpSocket::unacknowledged_bytes() const { return m_connection->send_ring.size(); }
TcpOptions& TcpSocket::options() { return m_connection->options; }
void TcpSocket::set_observer(SocketObserver* observer) { m_connection->observer = observer; }

void TcpSocket::options_changed() {
    TcpConnection& c = *m_connection;
    c.layer.now = c.layer.env.now_ns();
    // A larger SO_SNDBUF takes effect at the next allocation (an empty ring is given back).
    if (c.send_ring.allocated() && c.send_ring.size() == 0 &&
        c.send_ring.capacity() != c.options.send_buffer) {
        c.layer.buffered_bytes -= c.send_ring.capacity();
        c.send_ring.release();
    }
    c.arm_keepalive();
    if (!c.options.cork && c.send_ring.size()) c.more = false;
    c.output();
    c.layer.sweep();
}

}  // namespace lib::net
