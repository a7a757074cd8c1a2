// AF_INET SOCK_DGRAM: a file over one lib::net::UdpSocket.
#pragma once

#include "kernel/net/socket.h"
#include "lib/net/udp.h"

namespace kernel::net {

class UdpSocketFile final : public SocketFile, private lib::net::SocketObserver {
public:
    static lib::Result<SocketFile*> create(int flags);
    UdpSocketFile(lib::net::UdpSocket& socket, int flags);
    ~UdpSocketFile() override;

    lib::ErrorOr bind(const SockAddress& address) override;
    lib::ErrorOr connect(const SockAddress& address) override;
    lib::Result<size_t> send(SendRequest& request) override;
    lib::Result<size_t> receive(ReceiveRequest& request) override;
    lib::ErrorOr shutdown(int how) override;
    lib::ErrorOr local_name(SockAddress& out) override;
    lib::ErrorOr peer_name(SockAddress& out) override;
    lib::ErrorOr set_kind_option(int level, int name, const OptionValue& value) override;
    lib::ErrorOr get_kind_option(int level, int name, OptionValue& value) override;
    uint32_t poll_events() override { return m_socket.poll_events(); }

protected:
    size_t readable_bytes() override { return m_socket.next_datagram_size(); }
    int take_error() override { return int(m_socket.take_error()); }

private:
    void socket_changed(uint32_t events) override { readiness_changed(events); }

    lib::net::UdpSocket& m_socket;
    uint32_t m_receive_buffer = 212992, m_send_buffer = 212992;
    bool m_reuse_address = false, m_reuse_port = false, m_broadcast = false;
};

}  // namespace kernel::net
