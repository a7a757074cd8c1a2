// UDP (RFC 768) sockets: bind, an optional default peer, and bounded queues of datagrams.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "lib/base/result.h"
#include "lib/net/address.h"
#include "lib/net/env.h"
#include "lib/net/ip_output.h"
#include "lib/net/socket_events.h"

namespace lib::net {

class UdpLayer;

class UdpSocket {
public:
    // Port 0 draws an ephemeral port. Errors: AddrInUse, AddrNotAvail, Inval (bound).
    ErrorOr bind(Endpoint local);
    // Sets the default peer and filters what arrives to it; an address of kAnyAddress
    // (AF_UNSPEC) dissolves the association.
    ErrorOr connect(Endpoint remote);
    // Sends one datagram to `to` (or the connected peer). Errors: DestAddrReq, IsConn (a `to`
    // on a connected socket is allowed, as on Linux: this is not returned), MsgSize (over
    // 65507 bytes), NetUnreach, the pending error(). Binds an ephemeral port when unbound.
    Result<size_t> send_to(std::span<const uint8_t> data, std::optional<Endpoint> to);
    struct Received {
        size_t copied;     // bytes placed in the buffer
        size_t length;     // the datagram's whole length (MSG_TRUNC)
        Endpoint from;
    };
    // Takes (or with `peek` looks at) the next datagram; Again when none.
    Result<Received> receive_from(std::span<uint8_t> buffer, bool peek = false);
    ErrorOr shutdown(bool read, bool write);
    void close();  // the owner lets go; the layer frees the socket

    uint32_t poll_events() const;
    Errno take_error();  // ICMP port unreachable on a connected socket: ConnRefused
    Endpoint local() const;
    std::optional<Endpoint> remote() const;
    size_t next_datagram_size() const;  // FIONREAD
    void set_receive_buffer(uint32_t bytes);
    void set_send_buffer(uint32_t bytes);
    void set_reuse(bool address, bool port);
    void set_broadcast(bool allowed);  // SO_BROADCAST
    void set_observer(SocketObserver* observer);

private:
    friend class UdpLayer;
    UdpSocket() = default;
    ~UdpSocket() = default;
    // Implementation state: the layer's (see udp.cc).
    struct State;
    State* m_state = nullptr;
};

class UdpLayer final : public Transport {
public:
    UdpLayer(IpOutput& ip, NetEnv& env);
    ~UdpLayer();
    UdpLayer(const UdpLayer&) = delete;
    UdpLayer& operator=(const UdpLayer&) = delete;

    Result<UdpSocket*> create();  // NoMem

    void input(const IncomingPacket& packet) override;
    void icmp_error(std::span<const uint8_t> original, Errno error, uint16_t next_mtu) override;
    uint64_t run_timers(uint64_t) override { return kNoDeadline; }
    uint64_t next_deadline() const override { return kNoDeadline; }

    // A datagram to a port nobody has bound gets ICMP port unreachable (RFC 1122 §4.1.3.1):
    // the stack asks through this hook, set by the stack.
    void set_unreachable_hook(void (*hook)(const IncomingPacket&, void*), void* context);

private:
    friend class UdpSocket;  // a socket's state points back at its layer
    struct Impl;
    Impl* m_impl;
};

}  // namespace lib::net
