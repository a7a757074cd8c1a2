// The socket syscalls: descriptors and addresses in and out of user memory, message headers,
// the batch forms; each socket kind does the rest (kernel/net).
#include "kernel/net/socket.h"

#include "kernel/net/tcp_socket_file.h"
#include "kernel/net/udp_socket_file.h"
#include "kernel/net/unix_socket.h"
#include "kernel/proc/process.h"
#include "kernel/sys/handlers.h"
#include "kernel/time/clock.h"

namespace kernel::sys {

namespace {

using net::SockAddress;
using net::SocketFile;

constexpr int kTypeMask = 0xf;
constexpr int kMaxMessages = 1024;  // UIO_MAXIOV, Linux's cap on vlen

// struct msghdr and struct mmsghdr (include/linux/socket.h).
struct MsgHdr {
    uint64_t name;
    uint32_t name_length;
    uint32_t pad0;
    uint64_t iov;
    uint64_t iov_length;
    uint64_t control;
    uint64_t control_length;
    int32_t flags;
    uint32_t pad1;
};
static_assert(sizeof(MsgHdr) == 56);
struct MMsgHdr {
    MsgHdr header;
    uint32_t length;
    uint32_t pad;
};
static_assert(sizeof(MMsgHdr) == 64);

lib::Result<SocketFile*> socket_of(int fd) {
    fs::File* file = TRY(proc::current().fds().get(fd));
    SocketFile* socket = file->as_socket();
    if (!socket) return lib::Errno::NotSock;
    return socket;
}

// A held reference to a socket descriptor's description for the length of a call.
class SocketRef {
public:
    explicit SocketRef(SocketFile* socket) : m_file(socket), m_socket(socket) {}
    SocketFile* operator->() const { return m_socket; }
    SocketFile& operator*() const { return *m_socket; }

private:
    fs::FileRef m_file;
    SocketFile* m_socket;
};

lib::Result<SockAddress> address_from_user(uint64_t address, uint32_t length) {
    if (length > sizeof(SockAddress::bytes)) return lib::Errno::Inval;
    SockAddress out;
    out.length = length;
    if (length) TRY(mm::copy_from_user_bytes(out.bytes, address, length));
    return out;
}

// Copies as much of `name` as the caller's buffer holds and stores the full length
// (Linux's move_addr_to_user).
lib::ErrorOr address_to_user(const SockAddress& name, uint64_t address, uint64_t length_address) {
    if (!address || !length_address) return {};
    int32_t room;
    TRY(mm::copy_from_user(room, UserIn<int32_t>(length_address)));
    if (room < 0) return lib::Errno::Inval;
    uint32_t copied = name.length < uint32_t(room) ? name.length : uint32_t(room);
    if (copied) TRY(mm::copy_to_user_bytes(address, name.bytes, copied));
    int32_t full = int32_t(name.length);
    return mm::copy_to_user(UserOut<int32_t>(length_address), full);
}

SyscallResult install_socket(SocketFile* socket, int flags) {
    auto fd = proc::current().fds().install(socket, 0, flags & net::kSockCloexec);
    if (fd.is_error()) socket->release();
    return TRY(fd);
}

lib::Result<SocketFile*> make_socket(int domain, int type, int protocol, int flags) {
    switch (domain) {
        case net::kAfInet:
            if (type == net::kSockStream) {
                if (protocol != 0 && protocol != net::kIpprotoTcp)
                    return lib::Errno::ProtoNoSupport;
                return net::TcpSocketFile::create(flags);
            }
            if (type == net::kSockDgram) {
                if (protocol != 0 && protocol != net::kIpprotoUdp)
                    return lib::Errno::ProtoNoSupport;
                return net::UdpSocketFile::create(flags);
            }
            return type == net::kSockRaw ? lib::Errno::Perm : lib::Errno::ProtoNoSupport;
        case net::kAfUnix:
            if (protocol != 0) return lib::Errno::ProtoNoSupport;
            return net::UnixSocket::create(type, flags);
        default:
            // AF_INET6, AF_NETLINK, AF_PACKET...: runtimes probe these and fall back.
            return lib::Errno::AfNoSupport;
    }
}

lib::Result<size_t> send_message(SocketFile& socket, const MsgHdr& header, int flags) {
    net::UserIo io = TRY(net::UserIo::vectored(UserIn<IoVec>(header.iov), header.iov_length));
    SockAddress to;
    net::SendRequest request{&io, flags};
    if (header.name && header.name_length) {
        to = TRY(address_from_user(header.name, header.name_length));
        request.to = &to;
    }
    return socket.send(request);
}

// Receives into `header`'s buffers; writes back the name length, control length (no
// ancillary data is ever delivered) and flags.
lib::Result<size_t> receive_message(SocketFile& socket, MsgHdr& header, uint64_t header_address,
                                    int flags) {
    net::UserIo io = TRY(net::UserIo::vectored(UserIn<IoVec>(header.iov), header.iov_length));
    SockAddress from;
    net::ReceiveRequest request{&io, flags, header.name ? &from : nullptr};
    size_t received = TRY(socket.receive(request));
    if (header.name) {
        uint32_t copied = from.length < header.name_length ? from.length : header.name_length;
        if (copied) TRY(mm::copy_to_user_bytes(header.name, from.bytes, copied));
        header.name_length = from.length;
    }
    header.control_length = 0;
    header.flags = request.out_flags;
    TRY(mm::copy_to_user_bytes(header_address, &header, sizeof header));
    return received;
}

}  // namespace

SyscallResult sys_socket(int domain, int type, int protocol) {
    int flags = type & ~kTypeMask;
    if (flags & ~(net::kSockNonblock | net::kSockCloexec)) return lib::Errno::Inval;
    SocketFile* socket = TRY(make_socket(domain, type & kTypeMask, protocol, flags));
    return install_socket(socket, flags);
}

SyscallResult sys_socketpair(int domain, int type, int protocol, UserOut<int> fds) {
    int flags = type & ~kTypeMask;
    if (flags & ~(net::kSockNonblock | net::kSockCloexec)) return lib::Errno::Inval;
    if (domain != net::kAfUnix)
        return domain == net::kAfInet ? lib::Errno::OpNotSupp : lib::Errno::AfNoSupport;
    if (protocol != 0) return lib::Errno::ProtoNoSupport;
    SocketFile* first;
    SocketFile* second;
    TRY(net::UnixSocket::create_pair(type & kTypeMask, flags, first, second));
    auto& table = proc::current().fds();
    auto a = table.install(first, 0, flags & net::kSockCloexec);
    if (a.is_error()) {
        first->release();
        second->release();
        return a.error();
    }
    auto b = table.install(second, 0, flags & net::kSockCloexec);
    if (b.is_error()) {
        (void)table.close(a.value());
        second->release();
        return b.error();
    }
    int pair[2] = {a.value(), b.value()};
    if (auto copied = mm::copy_to_user_bytes(fds.address(), pair, sizeof pair); copied.is_error()) {
        (void)table.close(a.value());
        (void)table.close(b.value());
        return copied.error();
    }
    return 0;
}

SyscallResult sys_bind(int fd, uint64_t address, uint32_t length) {
    SocketRef socket(TRY(socket_of(fd)));
    TRY(socket->bind(TRY(address_from_user(address, length))));
    return 0;
}

SyscallResult sys_connect(int fd, uint64_t address, uint32_t length) {
    SocketRef socket(TRY(socket_of(fd)));
    TRY(socket->connect(TRY(address_from_user(address, length))));
    return 0;
}

SyscallResult sys_listen(int fd, int backlog) {
    SocketRef socket(TRY(socket_of(fd)));
    TRY(socket->listen(backlog));
    return 0;
}

SyscallResult sys_accept4(int fd, uint64_t address, uint64_t length_address, int flags) {
    if (flags & ~(net::kSockNonblock | net::kSockCloexec)) return lib::Errno::Inval;
    SocketRef socket(TRY(socket_of(fd)));
    SockAddress peer;
    SocketFile* accepted = TRY(socket->accept(flags, &peer));
    if (auto told = address_to_user(peer, address, length_address); told.is_error()) {
        accepted->release();
        return told.error();
    }
    return install_socket(accepted, flags);
}

SyscallResult sys_accept(int fd, uint64_t address, uint64_t length_address) {
    return sys_accept4(fd, address, length_address, 0);
}

SyscallResult sys_sendto(int fd, uint64_t buffer, uint64_t length, int flags, uint64_t address,
                         uint32_t address_length) {
    SocketRef socket(TRY(socket_of(fd)));
    net::UserIo io = net::UserIo::single(buffer, length);
    net::SendRequest request{&io, flags};
    SockAddress to;
    if (address) {
        to = TRY(address_from_user(address, address_length));
        request.to = &to;
    }
    return int64_t(TRY(socket->send(request)));
}

SyscallResult sys_recvfrom(int fd, uint64_t buffer, uint64_t length, int flags, uint64_t address,
                           uint64_t length_address) {
    SocketRef socket(TRY(socket_of(fd)));
    net::UserIo io = net::UserIo::single(buffer, length);
    SockAddress from;
    net::ReceiveRequest request{&io, flags, address ? &from : nullptr};
    size_t received = TRY(socket->receive(request));
    if (address) TRY(address_to_user(from, address, length_address));
    return int64_t(received);
}

SyscallResult sys_sendmsg(int fd, uint64_t message, int flags) {
    SocketRef socket(TRY(socket_of(fd)));
    MsgHdr header;
    TRY(mm::copy_from_user_bytes(&header, message, sizeof header));
    return int64_t(TRY(send_message(*socket, header, flags)));
}

SyscallResult sys_recvmsg(int fd, uint64_t message, int flags) {
    SocketRef socket(TRY(socket_of(fd)));
    MsgHdr header;
    TRY(mm::copy_from_user_bytes(&header, message, sizeof header));
    return int64_t(TRY(receive_message(*socket, header, message, flags)));
}

SyscallResult sys_sendmmsg(int fd, uint64_t messages, uint32_t count, int flags) {
    SocketRef socket(TRY(socket_of(fd)));
    if (count > kMaxMessages) count = kMaxMessages;
    uint32_t done = 0;
    for (; done < count; ++done) {
        uint64_t at = messages + uint64_t(done) * sizeof(MMsgHdr);
        MMsgHdr entry;
        auto copied = mm::copy_from_user_bytes(&entry, at, sizeof entry);
        if (copied.is_error()) {
            if (done) break;
            return copied.error();
        }
        auto sent = send_message(*socket, entry.header, flags);
        if (sent.is_error()) {
            if (done) break;
            return sent.error();
        }
        entry.length = uint32_t(sent.value());
        TRY(mm::copy_to_user_bytes(at + offsetof(MMsgHdr, length), &entry.length,
                                   sizeof entry.length));
    }
    return int64_t(done);
}

SyscallResult sys_recvmmsg(int fd, uint64_t messages, uint32_t count, int flags,
                           UserIn<TimeSpec> timeout) {
    SocketRef socket(TRY(socket_of(fd)));
    if (count > kMaxMessages) count = kMaxMessages;
    uint64_t deadline = 0;
    if (timeout.address()) {
        TimeSpec ts;
        TRY(mm::copy_from_user(ts, timeout));
        if (ts.seconds < 0 || ts.nanoseconds < 0 || ts.nanoseconds >= 1'000'000'000)
            return lib::Errno::Inval;
        deadline =
            time::monotonic_ns() + uint64_t(ts.seconds) * 1'000'000'000 + uint64_t(ts.nanoseconds);
    }
    uint32_t done = 0;
    for (; done < count; ++done) {
        uint64_t at = messages + uint64_t(done) * sizeof(MMsgHdr);
        MMsgHdr entry;
        auto copied = mm::copy_from_user_bytes(&entry, at, sizeof entry);
        if (copied.is_error()) {
            if (done) break;
            return copied.error();
        }
        // MSG_WAITFORONE: only the first waits. The timeout is looked at between datagrams
        // (as Linux does: it does not bound the wait for one).
        int these = flags & ~net::kMsgWaitforone;
        if ((flags & net::kMsgWaitforone) && done) these |= net::kMsgDontwait;
        auto received = receive_message(*socket, entry.header, at, these);
        if (received.is_error()) {
            if (done) break;
            return received.error();
        }
        entry.length = uint32_t(received.value());
        TRY(mm::copy_to_user_bytes(at + offsetof(MMsgHdr, length), &entry.length,
                                   sizeof entry.length));
        if (deadline && time::monotonic_ns() >= deadline) {
            ++done;
            break;
        }
    }
    return int64_t(done);
}

SyscallResult sys_shutdown(int fd, int how) {
    SocketRef socket(TRY(socket_of(fd)));
    TRY(socket->shutdown(how));
    return 0;
}

SyscallResult sys_getsockname(int fd, uint64_t address, uint64_t length_address) {
    SocketRef socket(TRY(socket_of(fd)));
    SockAddress name;
    TRY(socket->local_name(name));
    TRY(address_to_user(name, address, length_address));
    return 0;
}

SyscallResult sys_getpeername(int fd, uint64_t address, uint64_t length_address) {
    SocketRef socket(TRY(socket_of(fd)));
    SockAddress name;
    TRY(socket->peer_name(name));
    TRY(address_to_user(name, address, length_address));
    return 0;
}

SyscallResult sys_setsockopt(int fd, int level, int name, uint64_t value, uint32_t length) {
    SocketRef socket(TRY(socket_of(fd)));
    if (int32_t(length) < 0) return lib::Errno::Inval;
    net::OptionValue option;
    option.length = length < sizeof option.bytes ? length : uint32_t(sizeof option.bytes);
    if (option.length) TRY(mm::copy_from_user_bytes(option.bytes, value, option.length));
    TRY(socket->set_option(level, name, option));
    return 0;
}

SyscallResult sys_getsockopt(int fd, int level, int name, uint64_t value, uint64_t length_address) {
    SocketRef socket(TRY(socket_of(fd)));
    int32_t room;
    TRY(mm::copy_from_user(room, UserIn<int32_t>(length_address)));
    if (room < 0) return lib::Errno::Inval;
    net::OptionValue option;
    TRY(socket->get_option(level, name, option));
    uint32_t copied = option.length < uint32_t(room) ? option.length : uint32_t(room);
    if (copied) TRY(mm::copy_to_user_bytes(value, option.bytes, copied));
    int32_t written = int32_t(copied);
    TRY(mm::copy_to_user(UserOut<int32_t>(length_address), written));
    return 0;
}

}  // namespace kernel::sys
