// Sockets as open files: the base every kind shares (AF_INET stream and datagram over
// lib/net, AF_UNIX stream and datagram in memory). It owns what all have in common:
// O_NONBLOCK, SO_RCVTIMEO/SO_SNDTIMEO, the generic options, waiting for readiness, and
// read/write as recv/send without flags. Kinds implement the socket calls they support; the
// rest fail as Linux fails them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "kernel/fs/file.h"
#include "kernel/net/user_io.h"
#include "kernel/sched/wait.h"
#include "lib/base/result.h"

namespace kernel::net {

// Linux's values (include/linux/socket.h, net.h, uapi/asm-generic/socket.h, netinet/in.h).
inline constexpr int kAfUnspec = 0, kAfUnix = 1, kAfInet = 2, kAfInet6 = 10, kAfNetlink = 16,
                     kAfPacket = 17;
inline constexpr int kSockStream = 1, kSockDgram = 2, kSockRaw = 3, kSockSeqpacket = 5;
inline constexpr int kSockNonblock = 04000, kSockCloexec = 02000000;
inline constexpr int kMsgOob = 1, kMsgPeek = 2, kMsgDontroute = 4, kMsgCtrunc = 8, kMsgTrunc = 0x20,
                     kMsgDontwait = 0x40, kMsgEor = 0x80, kMsgWaitall = 0x100,
                     kMsgNosignal = 0x4000, kMsgMore = 0x8000, kMsgWaitforone = 0x10000,
                     kMsgCmsgCloexec = 0x40000000;
inline constexpr int kSolSocket = 1, kIpprotoIp = 0, kIpprotoTcp = 6, kIpprotoUdp = 17;
inline constexpr int kShutRd = 0, kShutWr = 1, kShutRdwr = 2;

// A socket address as the syscalls carry it (struct sockaddr_storage: at most 128 bytes).
struct SockAddress {
    uint8_t bytes[128] = {};
    uint32_t length = 0;
    uint16_t family() const { return length >= 2 ? uint16_t(bytes[0] | bytes[1] << 8) : 0; }
};

struct SendRequest {
    UserIo* data;
    int flags = 0;
    const SockAddress* to = nullptr;  // sendto/sendmsg with a name
};

struct ReceiveRequest {
    UserIo* data;
    int flags = 0;
    SockAddress* from = nullptr;  // recvfrom/recvmsg asked for the name
    int out_flags = 0;            // MSG_TRUNC for a datagram cut short, as recvmsg reports
};

// An option's value in kernel memory (setsockopt copies in, getsockopt out).
struct OptionValue {
    uint8_t bytes[64] = {};
    uint32_t length = 0;
    int as_int() const;  // the first 4 bytes (0 when shorter)
    void set_int(int value);
};

class SocketFile : public fs::File {
public:
    SocketFile(int domain, int type, int flags);

    int domain() const { return m_domain; }
    int type() const { return m_type; }

    virtual lib::ErrorOr bind(const SockAddress& address);
    virtual lib::ErrorOr connect(const SockAddress& address);
    virtual lib::ErrorOr listen(int backlog);
    // A connection, a new description with `flags` (SOCK_NONBLOCK, SOCK_CLOEXEC is the
    // caller's); `peer` filled when not null.
    virtual lib::Result<SocketFile*> accept(int flags, SockAddress* peer);
    virtual lib::Result<size_t> send(SendRequest& request) = 0;
    virtual lib::Result<size_t> receive(ReceiveRequest& request) = 0;
    virtual lib::ErrorOr shutdown(int how);
    virtual lib::ErrorOr local_name(SockAddress& out) = 0;
    virtual lib::ErrorOr peer_name(SockAddress& out);
    // Kind-specific options; the common SOL_SOCKET ones are handled here first.
    virtual lib::ErrorOr set_kind_option(int level, int name, const OptionValue& value);
    virtual lib::ErrorOr get_kind_option(int level, int name, OptionValue& value);
    lib::ErrorOr set_option(int level, int name, const OptionValue& value);
    lib::ErrorOr get_option(int level, int name, OptionValue& value);

    // File.
    lib::Result<size_t> read(std::span<char> buffer) override;
    lib::Result<size_t> write(std::span<const char> data) override;
    bool moves_user_memory() const override { return true; }
    lib::Result<size_t> read_user(uint64_t address, size_t count) override;
    lib::Result<size_t> write_user(uint64_t address, size_t count) override;
    lib::Result<int64_t> ioctl(uint32_t request, uint64_t argument) override;
    lib::ErrorOr stat(sys::LinuxStat& out) override;
    bool pollable() const override { return true; }
    SocketFile* as_socket() override { return this; }
    int status_flags() const override { return 02 | (m_nonblocking ? kSockNonblock : 0); }
    void set_status_flags(int flags) override { m_nonblocking = flags & kSockNonblock; }
    void describe(lib::FormatSink& out) const override;

protected:
    // FIONREAD's answer.
    virtual size_t readable_bytes() { return 0; }
    // SO_ERROR: the pending error, cleared.
    virtual int take_error() { return 0; }
    virtual bool listening() const { return false; }

    bool nonblocking(int msg_flags) const { return m_nonblocking || (msg_flags & kMsgDontwait); }
    // Sleeps until poll_events() has one of `events` (or an error/hangup), the socket's
    // timeout for the direction passes (Again; EINPROGRESS-style callers map it) or a
    // signal comes (Intr). `sending` picks SO_SNDTIMEO over SO_RCVTIMEO.
    lib::ErrorOr wait_for(uint32_t events, bool sending);
    // Kinds call this when their readiness may have changed (wakes sleepers, tells epoll).
    void readiness_changed(uint32_t events);

    bool m_nonblocking;

private:
    int m_domain, m_type;
    uint64_t m_receive_timeout_ns = 0, m_send_timeout_ns = 0;  // 0: forever
    uint64_t m_id;
    sched::WaitQueue m_waiters;
};

// What SO_SNDBUF/SO_RCVBUF of `requested` bytes gives, as Linux reports it: doubled (room for
// bookkeeping), within [4608, 4 MiB].
uint32_t socket_buffer_size(int requested);

// SIGPIPE for the calling thread, as a failed stream send without MSG_NOSIGNAL raises it.
void raise_sigpipe();

}  // namespace kernel::net
