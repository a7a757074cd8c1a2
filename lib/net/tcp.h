// TCP (RFC 9293) as the kernel's sockets see it: a layer that owns every connection and a
// socket handle per connection or listener. The protocol machinery (tcp_input, tcp_output,
// tcp_timer, congestion control) lives in the tcp_*.cc files behind this interface.
//
// Lifetime: the layer allocates sockets and frees them. A socket's owner (the kernel's file)
// calls close() exactly once when it lets go; the connection then lives on inside the layer
// (FIN_WAIT, TIME_WAIT, LAST_ACK) until the protocol is done with it. Connections a listener
// has accepted into its queue but nobody has taken yet belong to the listener.
//
// Every operation returns at once: EAGAIN (Again) when it would have to wait, and the owner
// sleeps until its SocketObserver hears kReadable/kWritable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/base/result.h"
#include "lib/net/address.h"
#include "lib/net/env.h"
#include "lib/net/ip_output.h"
#include "lib/net/socket_events.h"

namespace lib::net {

class TcpConnection;  // the protocol state (tcp_connection.h)

enum class TcpState : uint8_t {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
};
const char* tcp_state_name(TcpState state);

struct TcpOptions {
    bool nodelay = false;    // TCP_NODELAY: no Nagle
    bool cork = false;       // TCP_CORK
    bool keepalive = false;  // SO_KEEPALIVE
    uint32_t keepalive_idle_s = 7200, keepalive_interval_s = 75, keepalive_count = 9;
    uint32_t receive_buffer = 128 * 1024;  // SO_RCVBUF (bytes of payload held)
    uint32_t send_buffer = 128 * 1024;     // SO_SNDBUF
    bool reuse_address = false;            // SO_REUSEADDR
    bool reuse_port = false;               // SO_REUSEPORT
    int linger_s = -1;                     // SO_LINGER: -1 off; 0 close() resets the connection
    uint16_t max_segment = 0;              // TCP_MAXSEG (0: from the route)
    uint32_t user_timeout_ms = 0;          // TCP_USER_TIMEOUT (0: the default retry limits)
};

class TcpSocket {
public:
    // Binds the local end: a port of 0 draws an ephemeral one; the address must be local or
    // any. Errors: AddrInUse, AddrNotAvail, Inval (already bound).
    ErrorOr bind(Endpoint local);
    // Starts listening with room for `backlog` connections waiting to be accepted (clamped
    // to [1, 4096]); half-open connections are bounded separately (SYN backlog). Binds an
    // ephemeral port first when unbound.
    ErrorOr listen(int backlog);
    // The next established connection, now the caller's; Again when none; Inval when not
    // listening.
    Result<TcpSocket*> accept();
    // Starts the handshake (binding an ephemeral port when unbound) and returns InProgress;
    // the outcome arrives as kWritable (established) or kErr/kHup with error() set
    // (ConnRefused, TimedOut, NetUnreach, HostUnreach). Errors now: IsConn, Already, NetUnreach.
    ErrorOr connect(Endpoint remote);
    // Queues data; returns how much fit (at least 1 byte, or Again when the buffer is full).
    // `more` holds a partial segment back as MSG_MORE does. Errors: NotConn, Pipe (the write
    // side is shut down or the connection reset; the owner raises SIGPIPE), the pending
    // error().
    Result<size_t> send(std::span<const uint8_t> data, bool more = false);
    // Takes received data: 0 at the peer's FIN, Again when none yet. `peek` leaves it queued.
    // Errors: NotConn, ConnReset, the pending error().
    Result<size_t> recv(std::span<uint8_t> buffer, bool peek = false);
    // SHUT_RD / SHUT_WR / both: the write side sends FIN after what is queued.
    ErrorOr shutdown(bool read, bool write);
    // The owner lets go (see the file comment). With linger 0, or with unread received data,
    // the connection is reset (RFC 9293 §3.10.7.1 / RFC 2525 §2.17).
    void close();

    // POLL* bits that hold now.
    uint32_t poll_events() const;
    // SO_ERROR: the pending error, cleared by reading it; Errno{0} when none.
    Errno take_error();
    TcpState state() const;
    Endpoint local() const;
    Endpoint remote() const;
    // FIONREAD (bytes ready to recv) and TIOCOUTQ (bytes queued, not yet acknowledged).
    size_t readable_bytes() const;
    size_t unacknowledged_bytes() const;
    TcpOptions& options();
    // Applies changed options (buffer sizes, Nagle now off: push what waits, keepalive timer).
    void options_changed();
    void set_observer(SocketObserver* observer);

private:
    friend class TcpLayer;
    friend class TcpConnection;
    explicit TcpSocket(TcpConnection& connection) : m_connection(&connection) {}
    TcpConnection* m_connection;
};

struct TcpLimits {
    uint32_t max_connections = 4096;  // every connection the layer holds, any state
    uint32_t syn_backlog = 256;       // half-open connections per listener (then SYN cookies
                                      // or drops: see tcp_listen.cc)
    uint64_t max_buffered_bytes = 256ull << 20;  // payload held across all connections
    uint32_t max_time_wait = 2048;  // TIME_WAIT entries kept (then the oldest is recycled)
};

class TcpLayer final : public Transport {
public:
    TcpLayer(IpOutput& ip, NetEnv& env, TcpLimits limits = {});
    ~TcpLayer();
    TcpLayer(const TcpLayer&) = delete;
    TcpLayer& operator=(const TcpLayer&) = delete;

    // A new unbound socket; NoMem or NFile (max_connections) when none can be had.
    Result<TcpSocket*> create();

    void input(const IncomingPacket& packet) override;
    void icmp_error(std::span<const uint8_t> original, Errno error, uint16_t next_mtu) override;
    uint64_t run_timers(uint64_t now) override;
    uint64_t next_deadline() const override;

    // For /proc/net/tcp and tests: `visit(info, context)` per connection and listener.
    struct ConnectionInfo {
        Endpoint local, remote;
        TcpState state;
        size_t send_queued, receive_queued;
    };
    void for_each_connection(void (*visit)(const ConnectionInfo&, void*), void* context) const;

    struct Stats {
        uint64_t segments_in, segments_out, retransmits, resets_sent, bad_segments, syn_dropped,
            active_opens, passive_opens;
    };
    const Stats& stats() const;

private:
    friend class TcpConnection;
    friend class TcpSocket;
    struct Impl;
    Impl* m_impl;
};

}  // namespace lib::net
