// AF_UNIX: connected pairs of stream sockets writing into each other's ring, listeners with
// bounded accept queues, datagram inboxes, and the table of bound names.
#include "kernel/net/unix_socket.h"

#include "kernel/mm/heap.h"
#include "kernel/proc/process.h"
#include "kernel/sys/fs_path.h"
#include "kernel/sys/linux_types.h"

namespace kernel::net {

namespace {

constexpr int kSoPasscred = 16, kSoPeercred = 17, kSoSndbuf = 7, kSoRcvbuf = 8;
constexpr size_t kMaxBacklog = 4096;
constexpr size_t kMaxDatagramQueue = 512;  // datagrams per inbox, whatever their size

UnixSocket* g_bound = nullptr;  // every bound socket, through m_bound_next
uint32_t g_autobind = 0;

}  // namespace

struct UnixSocket::Datagram {
    Datagram* next = nullptr;
    Name from;
    size_t length = 0;
    uint8_t* data() { return reinterpret_cast<uint8_t*>(this + 1); }
};

bool UnixSocket::Name::operator==(const Name& other) const {
    return length == other.length && __builtin_memcmp(bytes, other.bytes, length) == 0;
}

lib::Result<SocketFile*> UnixSocket::create(int type, int flags) {
    if (type != kSockStream && type != kSockDgram) return lib::Errno::ProtoNoSupport;
    auto* socket = mm::try_make<UnixSocket>(type, flags);
    if (!socket) return lib::Errno::NoMem;
    return static_cast<SocketFile*>(socket);
}

lib::ErrorOr UnixSocket::create_pair(int type, int flags, SocketFile*& first, SocketFile*& second) {
    if (type != kSockStream && type != kSockDgram) return lib::Errno::ProtoNoSupport;
    auto* a = mm::try_make<UnixSocket>(type, flags);
    auto* b = mm::try_make<UnixSocket>(type, flags);
    if (!a || !b) {
        delete a;
        delete b;
        return lib::Errno::NoMem;
    }
    a->link_stream_peer(*b);
    first = a, second = b;
    return {};
}

UnixSocket::UnixSocket(int type, int flags)
    : SocketFile(kAfUnix, type, flags), m_pid(proc::current().pid()) {}

UnixSocket::~UnixSocket() {
    if (m_bound) {
        for (UnixSocket** link = &g_bound; *link; link = &(*link)->m_bound_next)
            if (*link == this) {
                *link = m_bound_next;
                break;
            }
    }
    if (m_peer) {
        m_peer->m_peer = nullptr;
        m_peer->m_peer_gone = true;
        m_peer->notify(fs::ev::kReadable | fs::ev::kHup | fs::ev::kRdHup | fs::ev::kOut);
    }
    // Connections nobody accepted: closing them resets their clients.
    while (UnixSocket* queued = m_accept_head) {
        m_accept_head = queued->m_accept_next;
        queued->m_listener = nullptr;
        queued->release();
    }
    mm::kfree(m_ring);
    drop_datagrams();
}

void UnixSocket::drop_datagrams() {
    while (Datagram* d = m_dgram_head) {
        m_dgram_head = d->next;
        d->~Datagram();
        mm::kfree(d);
    }
    m_dgram_tail = nullptr;
    m_dgram_bytes = 0;
    m_dgram_count = 0;
}

void UnixSocket::link_stream_peer(UnixSocket& other) {
    m_peer = &other;
    other.m_peer = this;
}

// sockaddr_un: the family, then a path (up to its first NUL) or, after a leading NUL, an
// abstract name of every remaining byte.
lib::Result<UnixSocket::Name> UnixSocket::parse_name(const SockAddress& address) {
    if (address.length < 2 || address.family() != kAfUnix) return lib::Errno::Inval;
    Name name;
    size_t length = address.length - 2;
    if (length > kMaxName) return lib::Errno::Inval;
    const uint8_t* path = address.bytes + 2;
    if (length > 0 && path[0] != 0) {
        size_t end = 0;
        while (end < length && path[end]) ++end;
        length = end;
    }
    __builtin_memcpy(name.bytes, path, length);
    name.length = length;
    return name;
}

UnixSocket* UnixSocket::find_bound(const Name& name, int type) {
    for (UnixSocket* s = g_bound; s; s = s->m_bound_next)
        if (!s->m_node && s->m_name == name && s->type() == type) return s;
    return nullptr;
}

UnixSocket* UnixSocket::find_bound(const fs::Inode& node) {
    for (UnixSocket* s = g_bound; s; s = s->m_bound_next)
        if (s->m_node && s->m_node->same_file(node)) return s;
    return nullptr;
}

lib::Result<UnixSocket*> UnixSocket::find_peer(const Name& name, int type) {
    if (is_abstract(name)) {
        UnixSocket* target = find_bound(name, type);
        if (!target) return lib::Errno::ConnRefused;
        return target;
    }
    fs::InodeRef node(TRY(sys::resolve_at(
        sys::kAtFdCwd, {reinterpret_cast<const char*>(name.bytes), name.length}, true)));
    if (!node->is_socket()) return lib::Errno::ConnRefused;
    UnixSocket* target = find_bound(*node.get());
    if (!target) return lib::Errno::ConnRefused;
    if (target->type() != type) return lib::Errno::ProtoType;
    return target;
}

// The socket file comes first; the name is taken when anything is there already (Linux's
// mknod EEXIST turned into EADDRINUSE), symlinks included, dangling or not.
lib::ErrorOr UnixSocket::bind_path(const Name& name) {
    std::string_view path(reinterpret_cast<const char*>(name.bytes), name.length);
    fs::ParentPath parent = TRY(sys::parent_at(sys::kAtFdCwd, path));
    fs::InodeRef directory(parent.directory);
    if (parent.last.empty() || parent.last == "." || parent.last == "..")
        return lib::Errno::AddrInUse;
    if (auto existing = directory->lookup(parent.last); existing.has_value()) {
        existing.value()->release();
        return lib::Errno::AddrInUse;
    } else if (existing.error() != lib::Errno::NoEnt) {
        return existing.error();
    }
    if (parent.trailing_slash) return lib::Errno::NoEnt;
    uint32_t mode = fs::kTypeSocket | (0777 & ~proc::current().umask);
    auto made = directory->make_node(parent.last, mode);
    if (made.is_error())
        return made.error() == lib::Errno::Exist ? lib::Errno::AddrInUse : made.error();
    m_node = fs::InodeRef(made.value());
    return {};
}

void UnixSocket::fill_name(SockAddress& out, const Name& name) const {
    out = {};
    out.bytes[0] = kAfUnix;
    __builtin_memcpy(out.bytes + 2, name.bytes, name.length);
    bool abstract = name.length > 0 && name.bytes[0] == 0;
    out.length = uint32_t(2 + name.length + (name.length && !abstract ? 1 : 0));
}

lib::ErrorOr UnixSocket::bind(const SockAddress& address) {
    if (m_bound || m_name.length) return lib::Errno::Inval;
    Name name = TRY(parse_name(address));
    if (name.length == 0) {
        // Autobind (unix(7)): an abstract name of five hex digits.
        for (int attempt = 0; attempt < 0x100000 && name.length == 0; ++attempt) {
            uint32_t n = g_autobind++ & 0xfffff;
            Name candidate;
            candidate.bytes[0] = 0;
            for (int i = 0; i < 5; ++i)
                candidate.bytes[1 + i] = "0123456789abcdef"[(n >> (16 - 4 * i)) & 0xf];
            candidate.length = 6;
            if (!find_bound(candidate, type())) name = candidate;
        }
        if (name.length == 0) return lib::Errno::AddrInUse;
    }
    if (is_abstract(name)) {
        for (UnixSocket* s = g_bound; s; s = s->m_bound_next)
            if (!s->m_node && s->m_name == name) return lib::Errno::AddrInUse;
    } else {
        TRY(bind_path(name));
    }
    m_name = name;
    m_bound = true;
    m_bound_next = g_bound;
    g_bound = this;
    return {};
}

lib::ErrorOr UnixSocket::listen(int backlog) {
    if (type() != kSockStream) return lib::Errno::OpNotSupp;
    if (!m_bound || m_peer || m_peer_gone) return lib::Errno::Inval;
    m_listening = true;
    m_backlog = backlog < 1 ? 1 : size_t(backlog) > kMaxBacklog ? kMaxBacklog : size_t(backlog);
    return {};
}

lib::ErrorOr UnixSocket::connect(const SockAddress& address) {
    Name name = TRY(parse_name(address));
    if (name.length == 0) return lib::Errno::Inval;
    if (type() == kSockDgram) {
        UnixSocket* target = TRY(find_peer(name, kSockDgram));
        // The default destination is looked up by name (or socket file) at each send (only
        // a pair holds pointers, which each side clears when it goes).
        if (m_peer) {
            m_peer->m_peer = nullptr;
            m_peer = nullptr;
        }
        m_connected = name;
        m_connected_node.reset();
        if (target->m_node) {
            target->m_node->retain();
            m_connected_node = fs::InodeRef(target->m_node.get());
        }
        return {};
    }
    if (m_listening) return lib::Errno::Inval;
    if (m_peer || m_peer_gone) return lib::Errno::IsConn;
    UnixSocket* listener = TRY(find_peer(name, kSockStream));
    if (!listener->m_listening) return lib::Errno::ConnRefused;
    if (listener->m_accept_count >= listener->m_backlog) return lib::Errno::Again;
    auto* server = mm::try_make<UnixSocket>(kSockStream, 0);
    if (!server) return lib::Errno::NoMem;
    server->m_name = listener->m_name;  // getsockname on the accepted end: the listener's
    server->link_stream_peer(*this);
    server->m_listener = listener;
    if (listener->m_accept_tail)
        listener->m_accept_tail->m_accept_next = server;
    else
        listener->m_accept_head = server;
    listener->m_accept_tail = server;
    ++listener->m_accept_count;
    listener->notify(fs::ev::kReadable);
    return {};
}

lib::Result<SocketFile*> UnixSocket::accept(int flags, SockAddress* peer) {
    if (!m_listening) return lib::Errno::Inval;
    while (!m_accept_head) {
        if (m_nonblocking) return lib::Errno::Again;
        TRY(wait_for(fs::ev::kIn, false));
    }
    UnixSocket* server = m_accept_head;
    m_accept_head = server->m_accept_next;
    if (!m_accept_head) m_accept_tail = nullptr;
    --m_accept_count;
    server->m_accept_next = nullptr;
    server->m_listener = nullptr;
    server->m_nonblocking = flags & kSockNonblock;
    if (peer) {
        if (server->m_peer)
            fill_name(*peer, server->m_peer->m_name);
        else
            fill_name(*peer, Name{});
    }
    return static_cast<SocketFile*>(server);
}

size_t UnixSocket::stream_space() const {
    if (!m_peer) return 0;
    return kStreamBuffer - m_peer->m_ring_count;
}

lib::Result<size_t> UnixSocket::send(SendRequest& request) {
    if (request.flags & kMsgOob) return lib::Errno::OpNotSupp;
    return type() == kSockStream ? send_stream(request) : send_datagram(request);
}

lib::Result<size_t> UnixSocket::send_stream(SendRequest& request) {
    size_t sent = 0;
    auto broken_pipe = [&]() -> lib::Result<size_t> {
        if (sent) return sent;
        if (!(request.flags & kMsgNosignal)) raise_sigpipe();
        return lib::Errno::Pipe;
    };
    while (request.data->remaining() > 0 || (sent == 0 && request.data->total() == 0)) {
        if (m_shut_write) return broken_pipe();
        if (!m_peer) {
            if (m_peer_gone) return broken_pipe();
            return sent ? lib::Result<size_t>(sent) : lib::Errno::NotConn;
        }
        if (m_peer->m_shut_read) return broken_pipe();
        if (request.data->total() == 0) return size_t{0};
        UnixSocket& peer = *m_peer;
        if (!peer.m_ring) {
            peer.m_ring = static_cast<uint8_t*>(mm::kmalloc(kStreamBuffer));
            if (!peer.m_ring) return sent ? lib::Result<size_t>(sent) : lib::Errno::NoMem;
        }
        size_t space = kStreamBuffer - peer.m_ring_count;
        if (space == 0) {
            if (nonblocking(request.flags))
                return sent ? lib::Result<size_t>(sent) : lib::Errno::Again;
            auto waited = wait_for(fs::ev::kOut, true);
            if (waited.is_error()) return sent ? lib::Result<size_t>(sent) : waited.error();
            continue;
        }
        // The free part of the ring after its data, up to the end of the ring.
        size_t tail = (peer.m_ring_head + peer.m_ring_count) % kStreamBuffer;
        size_t contiguous = kStreamBuffer - tail < space ? kStreamBuffer - tail : space;
        auto pulled = request.data->pull({reinterpret_cast<char*>(peer.m_ring + tail), contiguous});
        if (pulled.is_error()) return sent ? lib::Result<size_t>(sent) : pulled.error();
        bool was_empty = peer.m_ring_count == 0;
        peer.m_ring_count += pulled.value();
        sent += pulled.value();
        if (pulled.value()) peer.notify(was_empty ? fs::ev::kReadable : 0);
        if (pulled.value() == 0) break;
    }
    return sent;
}

lib::Result<size_t> UnixSocket::send_datagram(SendRequest& request) {
    if (m_shut_write) {
        if (!(request.flags & kMsgNosignal)) raise_sigpipe();
        return lib::Errno::Pipe;
    }
    UnixSocket* target = nullptr;
    if (request.to) {
        Name name = TRY(parse_name(*request.to));
        if (name.length == 0) return lib::Errno::Inval;
        target = TRY(find_peer(name, kSockDgram));
    } else if (m_peer) {
        target = m_peer;
    } else if (m_connected.length) {
        target = m_connected_node ? find_bound(*m_connected_node.get())
                                  : find_bound(m_connected, kSockDgram);
        if (!target || target->type() != kSockDgram) return lib::Errno::ConnRefused;
    } else {
        return m_peer_gone ? lib::Errno::ConnRefused : lib::Errno::NotConn;
    }
    size_t length = request.data->total();
    if (length > kDatagramBuffer) return lib::Errno::MsgSize;
    if (target->m_dgram_bytes + length > kDatagramBuffer ||
        target->m_dgram_count >= kMaxDatagramQueue)
        return lib::Errno::Again;  // FIXME(#6): a blocking sender should wait for room
    void* memory = mm::kmalloc(sizeof(Datagram) + (length ? length : 1));
    if (!memory) return lib::Errno::NoBufs;
    auto* datagram = new (memory) Datagram;
    datagram->from = m_name;
    datagram->length = length;
    auto pulled = request.data->pull({reinterpret_cast<char*>(datagram->data()), length});
    if (pulled.is_error()) {
        mm::kfree(memory);
        return pulled.error();
    }
    bool was_empty = !target->m_dgram_head;
    if (target->m_dgram_tail)
        target->m_dgram_tail->next = datagram;
    else
        target->m_dgram_head = datagram;
    target->m_dgram_tail = datagram;
    target->m_dgram_bytes += length;
    ++target->m_dgram_count;
    target->notify(was_empty ? fs::ev::kReadable : 0);
    return length;
}

lib::Result<size_t> UnixSocket::receive(ReceiveRequest& request) {
    if (request.flags & kMsgOob) return lib::Errno::Inval;
    auto got = type() == kSockStream ? receive_stream(request) : receive_datagram(request);
    return got;
}

lib::Result<size_t> UnixSocket::receive_stream(ReceiveRequest& request) {
    bool peek = request.flags & kMsgPeek;
    bool wait_all = (request.flags & kMsgWaitall) && !peek;
    size_t total = 0;
    while (request.data->remaining() > 0) {
        if (m_ring_count == 0) {
            bool eof = m_shut_read || m_peer_gone || (m_peer && m_peer->m_shut_write);
            if (eof || (total && !wait_all)) break;
            if (!m_peer && !m_listening)
                return total ? lib::Result<size_t>(total) : lib::Errno::NotConn;
            if (nonblocking(request.flags))
                return total ? lib::Result<size_t>(total) : lib::Errno::Again;
            auto waited = wait_for(fs::ev::kIn | fs::ev::kRdHup, false);
            if (waited.is_error()) return total ? lib::Result<size_t>(total) : waited.error();
            continue;
        }
        size_t offset = peek ? total : 0;
        if (offset >= m_ring_count) break;
        size_t start = (m_ring_head + offset) % kStreamBuffer;
        size_t available = m_ring_count - offset;
        size_t contiguous = kStreamBuffer - start < available ? kStreamBuffer - start : available;
        auto pushed =
            request.data->push({reinterpret_cast<const char*>(m_ring + start), contiguous});
        if (pushed.is_error()) return total ? lib::Result<size_t>(total) : pushed.error();
        total += pushed.value();
        if (!peek) {
            bool was_full = m_ring_count == kStreamBuffer;
            m_ring_head = (m_ring_head + pushed.value()) % kStreamBuffer;
            m_ring_count -= pushed.value();
            if (m_peer) m_peer->notify(was_full ? fs::ev::kWritable : 0);
        }
        if (pushed.value() == 0) break;
    }
    if (request.from && m_peer) fill_name(*request.from, m_peer->m_name);
    return total;
}

lib::Result<size_t> UnixSocket::receive_datagram(ReceiveRequest& request) {
    while (!m_dgram_head) {
        if (m_shut_read) return size_t{0};
        if (nonblocking(request.flags)) return lib::Errno::Again;
        TRY(wait_for(fs::ev::kIn, false));
    }
    Datagram* datagram = m_dgram_head;
    size_t room = request.data->remaining();
    size_t copied = datagram->length < room ? datagram->length : room;
    TRY(request.data->push({reinterpret_cast<const char*>(datagram->data()), copied}));
    if (copied < datagram->length) request.out_flags |= kMsgTrunc;
    if (request.from) fill_name(*request.from, datagram->from);
    size_t length = datagram->length;
    if (!(request.flags & kMsgPeek)) {
        m_dgram_head = datagram->next;
        if (!m_dgram_head) m_dgram_tail = nullptr;
        m_dgram_bytes -= length;
        --m_dgram_count;
        datagram->~Datagram();
        mm::kfree(datagram);
    }
    return (request.flags & kMsgTrunc) ? length : copied;
}

lib::ErrorOr UnixSocket::shutdown(int how) {
    if (how < kShutRd || how > kShutRdwr) return lib::Errno::Inval;
    if (type() == kSockStream && !m_peer && !m_peer_gone) return lib::Errno::NotConn;
    if (how != kShutWr) m_shut_read = true;
    if (how != kShutRd) m_shut_write = true;
    notify(fs::ev::kReadable | fs::ev::kWritable);
    if (m_peer) m_peer->notify(fs::ev::kReadable | fs::ev::kRdHup | fs::ev::kWritable);
    return {};
}

lib::ErrorOr UnixSocket::local_name(SockAddress& out) {
    fill_name(out, m_name);
    return {};
}

lib::ErrorOr UnixSocket::peer_name(SockAddress& out) {
    if (!m_peer && m_connected.length) {
        fill_name(out, m_connected);
        return {};
    }
    if (!m_peer) return lib::Errno::NotConn;
    fill_name(out, m_peer->m_name);
    return {};
}

lib::ErrorOr UnixSocket::get_kind_option(int level, int name, OptionValue& value) {
    if (level != kSolSocket) return lib::Errno::NoProtoOpt;
    switch (name) {
        case kSoPeercred: {
            int credentials[3] = {m_peer ? m_peer->m_pid : 0, 0, 0};  // pid, uid, gid
            __builtin_memcpy(value.bytes, credentials, sizeof credentials);
            value.length = sizeof credentials;
            return {};
        }
        case kSoPasscred:
            value.set_int(0);
            return {};
        case kSoSndbuf:
        case kSoRcvbuf:
            value.set_int(int(kStreamBuffer));
            return {};
        default:
            return lib::Errno::NoProtoOpt;
    }
}

lib::ErrorOr UnixSocket::set_kind_option(int level, int name, const OptionValue&) {
    if (level == kSolSocket && name == kSoPasscred) return {};
    return lib::Errno::NoProtoOpt;
}

size_t UnixSocket::readable_bytes() {
    if (type() == kSockStream) return m_ring_count;
    return m_dgram_head ? m_dgram_head->length : 0;
}

uint32_t UnixSocket::poll_events() {
    if (m_listening) return m_accept_head ? fs::ev::kReadable : 0;
    uint32_t events = 0;
    if (type() == kSockDgram) {
        if (m_dgram_head) events |= fs::ev::kReadable;
        return events | fs::ev::kWritable;
    }
    if (m_ring_count) events |= fs::ev::kReadable;
    bool peer_done_writing = m_peer_gone || (m_peer && m_peer->m_shut_write);
    if (peer_done_writing || m_shut_read) events |= fs::ev::kReadable | fs::ev::kRdHup;
    if (m_peer_gone || (m_shut_read && m_shut_write) || (!m_peer && !m_peer_gone))
        events |= fs::ev::kHup;
    if (m_peer && !m_shut_write && stream_space() > 0) events |= fs::ev::kWritable;
    if (m_peer_gone) events |= fs::ev::kWritable;  // a write would fail at once (EPIPE)
    return events;
}

}  // namespace kernel::net
