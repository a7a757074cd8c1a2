// AF_INET SOCK_STREAM: a file over one lib::net::TcpSocket.
#pragma once

#include "kernel/net/socket.h"
#include "lib/net/tcp.h"

namespace kernel::net {

class TcpSocketFile final : public SocketFile, private lib::net::SocketObserver {
public:
    // A new unbound socket (socket(2)); NoMem, NFile.
    static lib::Result<SocketFile*> create(int flags);
    TcpSocketFile(lib::net::TcpSocket& socket, int flags);
    ~TcpSocketFile() override;

    lib::ErrorOr bind(const SockAddress& address) override;
    lib::ErrorOr connect(const SockAddress& address) override;
    lib::ErrorOr listen(int backlog) override;
    lib::Result<SocketFile*> accept(int flags, SockAddress* peer) override;
    lib::Result<size_t> send(SendRequest& request) override;
    lib::Result<size_t> receive(ReceiveRequest& request) override;
    lib::ErrorOr shutdown(int how) override;
    lib::ErrorOr local_name(SockAddress& out) override;
    lib::ErrorOr peer_name(SockAddress& out) override;
    lib::ErrorOr set_kind_option(int level, int name, const OptionValue& value) override;
    lib::ErrorOr get_kind_option(int level, int name, OptionValue& value) override;
    uint32_t poll_events() override;

protected:
    size_t readable_bytes() override { return m_socket.readable_bytes(); }
    int take_error() override { return int(m_socket.take_error()); }
    bool listening() const override { return m_socket.state() == lib::net::TcpState::Listen; }

private:
    void socket_changed(uint32_t events) override { readiness_changed(events); }
    lib::Result<size_t> send_chunk(std::span<const uint8_t> data, int flags, bool blocking);

    lib::net::TcpSocket& m_socket;
    bool m_connecting = false;  // a non-blocking connect is under way
};

}  // namespace kernel::net
