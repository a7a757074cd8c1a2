// AF_UNIX sockets in memory: stream and datagram, socketpair, names in the filesystem or the
// abstract namespace (a leading NUL). A path name is a socket file (S_IFSOCK) that bind()
// creates, resolved from the cwd like any path; it outlives its socket (connecting to it then
// is ECONNREFUSED) until unlinked, and peers find the socket by the file's identity, not by
// the spelling. Abstract names live in a kernel table and go with their socket. Every queue
// is bounded: a stream direction holds kStreamBuffer bytes, a datagram inbox kDatagramBuffer
// bytes, a listener its backlog.
#pragma once

#include "kernel/fs/vfs.h"
#include "kernel/net/socket.h"

namespace kernel::net {

class UnixSocket final : public SocketFile {
public:
    static constexpr size_t kStreamBuffer = 212992;  // Linux's default SO_SNDBUF
    static constexpr size_t kDatagramBuffer = 212992;
    static constexpr size_t kMaxName = 108;  // sun_path

    static lib::Result<SocketFile*> create(int type, int flags);
    // socketpair(2): two connected sockets.
    static lib::ErrorOr create_pair(int type, int flags, SocketFile*& first, SocketFile*& second);

    UnixSocket(int type, int flags);
    ~UnixSocket() override;

    lib::ErrorOr bind(const SockAddress& address) override;
    lib::ErrorOr connect(const SockAddress& address) override;
    lib::ErrorOr listen(int backlog) override;
    lib::Result<SocketFile*> accept(int flags, SockAddress* peer) override;
    lib::Result<size_t> send(SendRequest& request) override;
    lib::Result<size_t> receive(ReceiveRequest& request) override;
    lib::ErrorOr shutdown(int how) override;
    lib::ErrorOr local_name(SockAddress& out) override;
    lib::ErrorOr peer_name(SockAddress& out) override;
    lib::ErrorOr get_kind_option(int level, int name, OptionValue& value) override;
    lib::ErrorOr set_kind_option(int level, int name, const OptionValue& value) override;
    uint32_t poll_events() override;

protected:
    size_t readable_bytes() override;
    bool listening() const override { return m_listening; }

private:
    struct Datagram;
    struct Name {
        char bytes[kMaxName] = {};
        size_t length = 0;  // 0: unbound
        bool operator==(const Name& other) const;
    };

    static lib::Result<Name> parse_name(const SockAddress& address);
    static bool is_abstract(const Name& name) { return name.length && name.bytes[0] == 0; }
    // The socket bound to an abstract name.
    static UnixSocket* find_bound(const Name& name, int type);
    // The socket bound to the socket file `node`, whatever its type.
    static UnixSocket* find_bound(const fs::Inode& node);
    // The socket a peer's address names: abstract names through the table, paths resolved
    // from the cwd (symlinks followed) to a socket file. NoEnt (no such file), ConnRefused
    // (nobody bound, or not a socket file), ProtoType (bound by a socket of another type),
    // and the lookup's own errors.
    static lib::Result<UnixSocket*> find_peer(const Name& name, int type);
    lib::ErrorOr bind_path(const Name& name);
    void fill_name(SockAddress& out, const Name& name) const;
    void link_stream_peer(UnixSocket& other);
    void notify(uint32_t events) { readiness_changed(events); }
    size_t stream_space() const;
    lib::Result<size_t> send_stream(SendRequest& request);
    lib::Result<size_t> send_datagram(SendRequest& request);
    lib::Result<size_t> receive_stream(ReceiveRequest& request);
    lib::Result<size_t> receive_datagram(ReceiveRequest& request);
    void drop_datagrams();

    Name m_name;  // as given to bind (a relative path stays relative, as getsockname shows)
    UnixSocket* m_bound_next = nullptr;  // the table of bound sockets
    fs::InodeRef m_node;                 // bound to a path: its socket file
    bool m_bound = false;
    // Stream: the connected peer (cleared when either side goes). Datagram: the default
    // destination (connect), cleared when it closes.
    UnixSocket* m_peer = nullptr;
    bool m_peer_gone = false;  // had a peer, which closed (EOF, EPIPE)
    bool m_shut_read = false, m_shut_write = false;
    bool m_listening = false;
    // Listener: connections not yet accepted (server ends, linked through m_accept_next).
    UnixSocket* m_accept_head = nullptr;
    UnixSocket* m_accept_tail = nullptr;
    UnixSocket* m_accept_next = nullptr;
    UnixSocket* m_listener = nullptr;  // a queued server end: its listener
    size_t m_accept_count = 0;
    size_t m_backlog = 0;
    // Stream inbox: a ring of kStreamBuffer bytes (allocated on first use).
    uint8_t* m_ring = nullptr;
    size_t m_ring_head = 0, m_ring_count = 0;
    // Datagram inbox.
    Datagram* m_dgram_head = nullptr;
    Datagram* m_dgram_tail = nullptr;
    size_t m_dgram_bytes = 0;
    size_t m_dgram_count = 0;
    Name m_connected;               // a datagram socket's default destination (connect)
    fs::InodeRef m_connected_node;  // ... the socket file it named, for a path
    int m_pid = 0;                  // SO_PEERCRED of the creator
};

}  // namespace kernel::net
