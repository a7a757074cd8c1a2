// Socket semantics that need no network card, as on Linux. TCP over 127.0.0.1: bind to port 0
// and getsockname, listen, blocking and non-blocking connect (EINPROGRESS, POLLOUT, SO_ERROR),
// ECONNREFUSED, EADDRINUSE and SO_REUSEADDR over TIME_WAIT, accept4 flags, getpeername,
// MSG_PEEK/MSG_DONTWAIT/MSG_WAITALL, readv/writev/sendmsg/recvmsg, FIONREAD, FIONBIO,
// O_NONBLOCK, shutdown(SHUT_WR), EPIPE with SIGPIPE ignored, caught and MSG_NOSIGNAL, socket
// options, SO_RCVTIMEO, 64 MiB between two threads with a checksum, 200 connections in a
// row, 64 at once, epoll (level and edge) on listeners and connections, poll and select.
// UDP over 127.0.0.1: addresses, connect filtering, MSG_TRUNC, MSG_PEEK, FIONREAD, empty
// datagrams, sendmmsg/recvmmsg, ECONNREFUSED from ICMP port unreachable, poll. AF_UNIX:
// socketpair (stream and datagram), paths under /tmp and abstract names, SO_PEERCRED, EOF,
// EPIPE, poll. Prints one line per section, then "net_loopback ok" and exits 0, or
// "FAILED ..." and exits 1. Over 1,000 lines on purpose: one flat list of checks, one
// section a function, is easier to read against Linux's behaviour than helpers split apart.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

// ---- helpers ----

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
    struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&pause, NULL);
}

static void section(const char* name) {
    printf("net_loopback: %s\n", name);
    fflush(stdout);
}

static pthread_t spawn(void* (*run)(void*), void* arg) {
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, run, arg) == 0);
    return thread;
}

static struct sockaddr_in loopback(uint16_t port) {
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
}

static struct sockaddr_in local_address(int fd) {
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    CHECK(getsockname(fd, (struct sockaddr*)&addr, &len) == 0 && len == sizeof addr);
    CHECK(addr.sin_family == AF_INET);
    return addr;
}

static int int_option(int fd, int level, int name) {
    int value = -1;
    socklen_t len = sizeof value;
    CHECK(getsockopt(fd, level, name, &value, &len) == 0 && len == sizeof value);
    return value;
}

static void set_int_option(int fd, int level, int name, int value) {
    CHECK(setsockopt(fd, level, name, &value, sizeof value) == 0);
}

// A listening TCP socket on 127.0.0.1 and an ephemeral port; *addr gets its address.
static int tcp_listener(struct sockaddr_in* addr) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    struct sockaddr_in any = loopback(0);
    CHECK(bind(fd, (struct sockaddr*)&any, sizeof any) == 0);
    CHECK(listen(fd, 128) == 0);
    *addr = local_address(fd);
    CHECK(addr->sin_port != 0 && addr->sin_addr.s_addr == htonl(INADDR_LOOPBACK));
    return fd;
}

static int tcp_connect(const struct sockaddr_in* addr) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    CHECK(connect(fd, (const struct sockaddr*)addr, sizeof *addr) == 0);
    return fd;
}

// A connected pair: the handshake completes in the listener's backlog, so one thread suffices.
static void tcp_pair(int* client, int* server) {
    struct sockaddr_in addr;
    int listener = tcp_listener(&addr);
    *client = tcp_connect(&addr);
    *server = accept(listener, NULL, NULL);
    CHECK(*server >= 0);
    close(listener);
}

static void write_all(int fd, const void* data, size_t size) {
    const char* p = data;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        CHECK(n > 0);
        p += n;
        size -= (size_t)n;
    }
}

static void read_exactly(int fd, void* data, size_t size) {
    char* p = data;
    while (size > 0) {
        ssize_t n = read(fd, p, size);
        CHECK(n > 0);
        p += n;
        size -= (size_t)n;
    }
}

static uint64_t fnv1a(uint64_t hash, const unsigned char* data, size_t size) {
    for (size_t i = 0; i < size; ++i) hash = (hash ^ data[i]) * 0x100000001b3ULL;
    return hash;
}
#define FNV_START 0xcbf29ce484222325ULL

// A port on 127.0.0.1 that nothing listens on: bound (so that nobody else takes it) but not
// listening, so a TCP connect gets a RST.
static int unlistened_port(uint16_t* port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    struct sockaddr_in any = loopback(0);
    CHECK(bind(fd, (struct sockaddr*)&any, sizeof any) == 0);
    *port = ntohs(local_address(fd).sin_port);
    return fd;
}

// ---- TCP ----

static void tcp_options(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    CHECK(int_option(fd, SOL_SOCKET, SO_TYPE) == SOCK_STREAM);
    CHECK(int_option(fd, SOL_SOCKET, SO_DOMAIN) == AF_INET);
    CHECK(int_option(fd, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_TCP);
    CHECK(int_option(fd, SOL_SOCKET, SO_ACCEPTCONN) == 0);
    CHECK(int_option(fd, SOL_SOCKET, SO_ERROR) == 0);
    CHECK(int_option(fd, IPPROTO_TCP, TCP_NODELAY) == 0);
    set_int_option(fd, IPPROTO_TCP, TCP_NODELAY, 1);
    CHECK(int_option(fd, IPPROTO_TCP, TCP_NODELAY) != 0);
    set_int_option(fd, IPPROTO_TCP, TCP_NODELAY, 0);
    CHECK(int_option(fd, IPPROTO_TCP, TCP_NODELAY) == 0);
    CHECK(int_option(fd, SOL_SOCKET, SO_REUSEADDR) == 0);
    set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    CHECK(int_option(fd, SOL_SOCKET, SO_REUSEADDR) != 0);
    set_int_option(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
    CHECK(int_option(fd, SOL_SOCKET, SO_KEEPALIVE) != 0);
    // Linux doubles the value asked for (bookkeeping overhead); another kernel may not. Either
    // way the buffer must be at least what was asked for and the setting must take effect.
    CHECK(int_option(fd, SOL_SOCKET, SO_RCVBUF) > 0 && int_option(fd, SOL_SOCKET, SO_SNDBUF) > 0);
    set_int_option(fd, SOL_SOCKET, SO_RCVBUF, 65536);
    set_int_option(fd, SOL_SOCKET, SO_SNDBUF, 65536);
    int rcvbuf = int_option(fd, SOL_SOCKET, SO_RCVBUF);
    int sndbuf = int_option(fd, SOL_SOCKET, SO_SNDBUF);
    CHECK(rcvbuf >= 65536 && rcvbuf <= 4 * 65536 && sndbuf >= 65536 && sndbuf <= 4 * 65536);
    set_int_option(fd, SOL_SOCKET, SO_RCVBUF, 262144);
    CHECK(int_option(fd, SOL_SOCKET, SO_RCVBUF) > rcvbuf);
    printf("net_loopback: SO_RCVBUF 65536 -> %d, SO_SNDBUF 65536 -> %d\n", rcvbuf, sndbuf);
    errno = 0;
    int value = 1;
    CHECK(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &value, 1) == -1 && errno == EINVAL);
    // Unconnected: no peer, nothing to read.
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    errno = 0;
    CHECK(getpeername(fd, (struct sockaddr*)&peer, &len) == -1 && errno == ENOTCONN);
    char c;
    errno = 0;
    CHECK(recv(fd, &c, 1, MSG_DONTWAIT) == -1 && errno == ENOTCONN);
    errno = 0;
    CHECK(send(fd, "x", 1, MSG_NOSIGNAL) == -1 && (errno == EPIPE || errno == ENOTCONN));
    close(fd);

    // socket() flags.
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) && fcntl(fd, F_GETFD) == FD_CLOEXEC);
    close(fd);
    errno = 0;
    CHECK(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP) == -1 && errno == EPROTONOSUPPORT);
}

static void tcp_listen_and_bind(void) {
    struct sockaddr_in addr;
    int listener = tcp_listener(&addr);
    CHECK(int_option(listener, SOL_SOCKET, SO_ACCEPTCONN) == 1);
    // A second socket on the same port: EADDRINUSE, with or without SO_REUSEADDR (the port is
    // listening).
    for (int reuse = 0; reuse <= 1; ++reuse) {
        int other = socket(AF_INET, SOCK_STREAM, 0);
        CHECK(other >= 0);
        if (reuse) set_int_option(other, SOL_SOCKET, SO_REUSEADDR, 1);
        errno = 0;
        CHECK(bind(other, (struct sockaddr*)&addr, sizeof addr) == -1 && errno == EADDRINUSE);
        close(other);
    }
    // Binding twice is EINVAL.
    struct sockaddr_in any = loopback(0);
    errno = 0;
    CHECK(bind(listener, (struct sockaddr*)&any, sizeof any) == -1 && errno == EINVAL);

    // The side that closes first keeps the port in TIME_WAIT: binding it again needs
    // SO_REUSEADDR.
    set_int_option(listener, SOL_SOCKET, SO_REUSEADDR, 1);
    int client = tcp_connect(&addr);
    int server = accept(listener, NULL, NULL);
    CHECK(server >= 0);
    close(listener);
    close(server);  // active close: the server's end (on the listener's port) goes to TIME_WAIT
    char c;
    CHECK(read(client, &c, 1) == 0);
    close(client);
    sleep_ms(20);
    int again = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(again >= 0);
    int bound = bind(again, (struct sockaddr*)&addr, sizeof addr);
    int bind_errno = errno;
    close(again);
    again = socket(AF_INET, SOCK_STREAM, 0);
    set_int_option(again, SOL_SOCKET, SO_REUSEADDR, 1);
    CHECK(bind(again, (struct sockaddr*)&addr, sizeof addr) == 0);
    CHECK(listen(again, 8) == 0);
    close(again);
    // Linux refuses the bind without SO_REUSEADDR while TIME_WAIT lasts (60 s).
    CHECK(bound == -1 && bind_errno == EADDRINUSE);
}

static void tcp_connects(void) {
    struct sockaddr_in addr;
    int listener = tcp_listener(&addr);

    // Blocking connect; the addresses each side sees.
    int client = tcp_connect(&addr);
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    int server = accept(listener, (struct sockaddr*)&peer, &len);
    CHECK(server >= 0 && len == sizeof peer);
    struct sockaddr_in client_addr = local_address(client);
    CHECK(client_addr.sin_port != 0 && client_addr.sin_port != addr.sin_port);
    CHECK(peer.sin_port == client_addr.sin_port && peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
    struct sockaddr_in server_addr = local_address(server);
    CHECK(server_addr.sin_port == addr.sin_port &&
          server_addr.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
    len = sizeof peer;
    CHECK(getpeername(client, (struct sockaddr*)&peer, &len) == 0 && len == sizeof peer);
    CHECK(peer.sin_port == addr.sin_port && peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
    len = sizeof peer;
    CHECK(getpeername(server, (struct sockaddr*)&peer, &len) == 0);
    CHECK(peer.sin_port == client_addr.sin_port);
    CHECK(int_option(server, SOL_SOCKET, SO_ACCEPTCONN) == 0);
    // Connecting a connected socket.
    errno = 0;
    CHECK(connect(client, (struct sockaddr*)&addr, sizeof addr) == -1 && errno == EISCONN);
    close(client);
    close(server);

    // Non-blocking connect: EINPROGRESS (or, legitimately, at once), then POLLOUT and
    // SO_ERROR 0; accept4's flags.
    client = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK(client >= 0);
    int r = connect(client, (struct sockaddr*)&addr, sizeof addr);
    CHECK(r == 0 || errno == EINPROGRESS);
    printf("net_loopback: non-blocking connect: %s\n", r == 0 ? "at once" : "EINPROGRESS");
    struct pollfd pfd = {client, POLLOUT, 0};
    CHECK(poll(&pfd, 1, 5000) == 1 && (pfd.revents & POLLOUT) && !(pfd.revents & POLLERR));
    CHECK(int_option(client, SOL_SOCKET, SO_ERROR) == 0);
    server = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    CHECK(server >= 0);
    CHECK((fcntl(server, F_GETFL) & O_NONBLOCK) && fcntl(server, F_GETFD) == FD_CLOEXEC);
    CHECK(!(fcntl(listener, F_GETFL) & O_NONBLOCK) && fcntl(listener, F_GETFD) == 0);
    int plain_client = tcp_connect(&addr);
    int plain = accept4(listener, NULL, NULL, 0);
    CHECK(plain >= 0 && !(fcntl(plain, F_GETFL) & O_NONBLOCK) && fcntl(plain, F_GETFD) == 0);
    errno = 0;
    CHECK(accept4(listener, NULL, NULL, 0x40000000) == -1 && errno == EINVAL);
    close(plain);
    close(plain_client);
    close(server);
    close(client);

    // A non-blocking listener with nothing pending.
    CHECK(fcntl(listener, F_SETFL, O_NONBLOCK) == 0);
    errno = 0;
    CHECK(accept(listener, NULL, NULL) == -1 && (errno == EAGAIN || errno == EWOULDBLOCK));
    close(listener);

    // Nobody listening: ECONNREFUSED, blocking and not.
    uint16_t closed_port;
    int bound_only = unlistened_port(&closed_port);
    struct sockaddr_in refused = loopback(closed_port);
    client = socket(AF_INET, SOCK_STREAM, 0);
    errno = 0;
    CHECK(connect(client, (struct sockaddr*)&refused, sizeof refused) == -1 &&
          errno == ECONNREFUSED);
    close(client);
    client = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    r = connect(client, (struct sockaddr*)&refused, sizeof refused);
    if (r == -1 && errno == EINPROGRESS) {
        pfd = (struct pollfd){client, POLLOUT, 0};
        CHECK(poll(&pfd, 1, 5000) == 1 && (pfd.revents & (POLLERR | POLLHUP)));
        CHECK(int_option(client, SOL_SOCKET, SO_ERROR) == ECONNREFUSED);
        CHECK(int_option(client, SOL_SOCKET, SO_ERROR) == 0);  // reading it clears it
    } else {
        CHECK(r == -1 && errno == ECONNREFUSED);
    }
    close(client);
    close(bound_only);
}

struct delayed_send {
    int fd;
    const char* text;
};

// Sends its text one byte at a time, 2 ms apart: for MSG_WAITALL.
static void* send_slowly(void* arg) {
    struct delayed_send* job = arg;
    for (const char* p = job->text; *p; ++p) {
        sleep_ms(2);
        CHECK(send(job->fd, p, 1, 0) == 1);
    }
    return NULL;
}

static void tcp_data(void) {
    int client, server;
    tcp_pair(&client, &server);
    char buffer[256];

    // Nothing yet: MSG_DONTWAIT, FIONBIO and O_NONBLOCK all give EAGAIN.
    errno = 0;
    CHECK(recv(server, buffer, sizeof buffer, MSG_DONTWAIT) == -1 && errno == EAGAIN);
    int available = -1;
    CHECK(ioctl(server, FIONREAD, &available) == 0 && available == 0);
    int on = 1, off = 0;
    CHECK(ioctl(server, FIONBIO, &on) == 0 && (fcntl(server, F_GETFL) & O_NONBLOCK));
    errno = 0;
    CHECK(read(server, buffer, sizeof buffer) == -1 && errno == EAGAIN);
    CHECK(ioctl(server, FIONBIO, &off) == 0 && !(fcntl(server, F_GETFL) & O_NONBLOCK));
    CHECK(fcntl(server, F_SETFL, O_NONBLOCK) == 0);
    errno = 0;
    CHECK(recv(server, buffer, sizeof buffer, 0) == -1 && errno == EAGAIN);
    CHECK(fcntl(server, F_SETFL, 0) == 0);

    // send/recv, FIONREAD, MSG_PEEK.
    CHECK(send(client, "hello", 5, 0) == 5);
    struct pollfd pfd = {server, POLLIN, 0};
    CHECK(poll(&pfd, 1, 5000) == 1 && pfd.revents == POLLIN);
    CHECK(ioctl(server, FIONREAD, &available) == 0 && available == 5);
    CHECK(recv(server, buffer, 3, MSG_PEEK) == 3 && memcmp(buffer, "hel", 3) == 0);
    CHECK(recv(server, buffer, sizeof buffer, MSG_PEEK) == 5);
    CHECK(recv(server, buffer, 2, 0) == 2 && memcmp(buffer, "he", 2) == 0);
    CHECK(ioctl(server, FIONREAD, &available) == 0 && available == 3);
    CHECK(recv(server, buffer, sizeof buffer, 0) == 3 && memcmp(buffer, "llo", 3) == 0);

    // Several iovecs each way: writev/readv and sendmsg/recvmsg.
    struct iovec out[3] = {{"abc", 3}, {"", 0}, {"defgh", 5}};
    CHECK(writev(client, out, 3) == 8);
    char a[2], b[4], c[8];
    struct iovec in[3] = {{a, sizeof a}, {b, sizeof b}, {c, sizeof c}};
    size_t got = 0;
    while (got < 8) {
        ssize_t n = readv(server, in, 3);
        CHECK(n > 0);
        got += (size_t)n;
        // Keep the simple case: all 8 bytes are normally there at once on loopback.
        CHECK(got == 8);
    }
    CHECK(memcmp(a, "ab", 2) == 0 && memcmp(b, "cdef", 4) == 0 && memcmp(c, "gh", 2) == 0);
    struct iovec parts[4] = {{"one ", 4}, {"two ", 4}, {"three ", 6}, {"four", 4}};
    struct msghdr msg = {.msg_iov = parts, .msg_iovlen = 4};
    CHECK(sendmsg(server, &msg, 0) == 18);
    char x[5], y[13];  // exactly 18: MSG_WAITALL fills the whole buffer
    struct iovec into[2] = {{x, sizeof x}, {y, sizeof y}};
    msg = (struct msghdr){.msg_iov = into, .msg_iovlen = 2};
    CHECK(recvmsg(client, &msg, MSG_WAITALL) == 18 && msg.msg_flags == 0);
    CHECK(memcmp(x, "one t", 5) == 0 && memcmp(y, "wo three four", 13) == 0);

    // MSG_WAITALL waits for the whole buffer while the bytes trickle in.
    struct delayed_send job = {client, "0123456789"};
    pthread_t sender = spawn(send_slowly, &job);
    CHECK(recv(server, buffer, 10, MSG_WAITALL) == 10 && memcmp(buffer, "0123456789", 10) == 0);
    pthread_join(sender, NULL);

    // SO_RCVTIMEO: a blocking recv gives up with EAGAIN after the timeout.
    struct timeval timeout = {0, 100000};
    CHECK(setsockopt(server, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) == 0);
    struct timeval back = {0, 0};
    socklen_t len = sizeof back;
    CHECK(getsockopt(server, SOL_SOCKET, SO_RCVTIMEO, &back, &len) == 0 && len == sizeof back);
    CHECK(back.tv_sec == 0 && back.tv_usec >= 90000 && back.tv_usec <= 110000);
    long long start = now_ms();
    errno = 0;
    CHECK(recv(server, buffer, sizeof buffer, 0) == -1 && errno == EAGAIN);
    long long took = now_ms() - start;
    CHECK(took >= 95 && took < 3000);
    printf("net_loopback: SO_RCVTIMEO 100 ms: recv gave up after %lld ms\n", took);
    timeout = (struct timeval){0, 0};
    CHECK(setsockopt(server, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) == 0);
    close(client);
    close(server);
}

static volatile sig_atomic_t g_sigpipes;
static void on_sigpipe(int sig) {
    (void)sig;
    ++g_sigpipes;
}

// Writes to a socket whose peer has closed until the write fails; returns that errno.
static int write_until_error(int fd, int flags) {
    for (int i = 0; i < 100; ++i) {
        if (send(fd, "x", 1, flags) == -1) return errno;
        sleep_ms(5);  // the peer's RST is on its way
    }
    return 0;
}

static void tcp_shutdown_and_close(void) {
    int client, server;
    tcp_pair(&client, &server);
    char buffer[64];

    // Half-close: the peer reads EOF (again and again), then can still answer.
    CHECK(send(client, "request", 7, 0) == 7);
    CHECK(shutdown(client, SHUT_WR) == 0);
    CHECK(recv(server, buffer, sizeof buffer, MSG_WAITALL) == 7);  // short: EOF ends the wait
    CHECK(recv(server, buffer, sizeof buffer, 0) == 0);
    CHECK(recv(server, buffer, sizeof buffer, 0) == 0);
    struct pollfd pfd = {server, POLLIN | POLLRDHUP, 0};
    CHECK(poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN) && (pfd.revents & POLLRDHUP));
    errno = 0;
    CHECK(send(client, "x", 1, MSG_NOSIGNAL) == -1 && errno == EPIPE);
    CHECK(send(server, "response", 8, 0) == 8);
    CHECK(recv(client, buffer, 8, MSG_WAITALL) == 8 && memcmp(buffer, "response", 8) == 0);
    CHECK(shutdown(server, SHUT_WR) == 0);
    CHECK(recv(client, buffer, sizeof buffer, 0) == 0);
    close(client);
    close(server);

    // The peer closes: EOF, then writes fail with EPIPE. SIGPIPE ignored...
    CHECK(signal(SIGPIPE, SIG_IGN) != SIG_ERR);
    tcp_pair(&client, &server);
    close(server);
    CHECK(recv(client, buffer, sizeof buffer, 0) == 0);
    int first = write_until_error(client, 0);
    CHECK(first == EPIPE || first == ECONNRESET);
    errno = 0;
    CHECK(send(client, "x", 1, 0) == -1 && errno == EPIPE);
    errno = 0;
    CHECK(write(client, "x", 1) == -1 && errno == EPIPE);
    close(client);

    // ... caught (the write still fails with EPIPE), and suppressed by MSG_NOSIGNAL.
    struct sigaction action = {.sa_handler = on_sigpipe};
    CHECK(sigaction(SIGPIPE, &action, NULL) == 0);
    tcp_pair(&client, &server);
    close(server);
    CHECK(recv(client, buffer, sizeof buffer, 0) == 0);
    first = write_until_error(client, MSG_NOSIGNAL);
    CHECK(first == EPIPE || first == ECONNRESET);
    CHECK(g_sigpipes == 0);
    errno = 0;
    CHECK(send(client, "x", 1, MSG_NOSIGNAL) == -1 && errno == EPIPE && g_sigpipes == 0);
    errno = 0;
    CHECK(write(client, "x", 1) == -1 && errno == EPIPE && g_sigpipes == 1);
    close(client);
    CHECK(signal(SIGPIPE, SIG_IGN) != SIG_ERR);
}

#define BULK_BYTES (64u << 20)
#define BULK_CHUNK (256u << 10)

struct bulk_writer {
    int fd;
    uint64_t hash;
};

// Writes BULK_BYTES of a pseudo-random pattern in chunks of varying size, then closes.
static void* bulk_write(void* arg) {
    struct bulk_writer* job = arg;
    unsigned char* chunk = malloc(BULK_CHUNK);
    CHECK(chunk != NULL);
    uint64_t state = 0x9e3779b97f4a7c15ULL, hash = FNV_START;
    size_t sent = 0;
    while (sent < BULK_BYTES) {
        size_t size = BULK_CHUNK - (sent / BULK_CHUNK % 7) * 1000;  // uneven sizes
        if (size > BULK_BYTES - sent) size = BULK_BYTES - sent;
        for (size_t i = 0; i < size; ++i) {
            state ^= state << 13, state ^= state >> 7, state ^= state << 17;
            chunk[i] = (unsigned char)state;
        }
        hash = fnv1a(hash, chunk, size);
        write_all(job->fd, chunk, size);
        sent += size;
    }
    free(chunk);
    job->hash = hash;
    CHECK(close(job->fd) == 0);
    return NULL;
}

static void tcp_bulk(void) {
    int client, server;
    tcp_pair(&client, &server);
    struct bulk_writer job = {client, 0};
    long long start = now_ms();
    pthread_t writer = spawn(bulk_write, &job);
    unsigned char* buffer = malloc(65536);
    CHECK(buffer != NULL);
    uint64_t hash = FNV_START;
    size_t received = 0;
    for (;;) {
        ssize_t n = read(server, buffer, 65536);
        CHECK(n >= 0);
        if (n == 0) break;
        hash = fnv1a(hash, buffer, (size_t)n);
        received += (size_t)n;
    }
    pthread_join(writer, NULL);
    long long took = now_ms() - start;
    CHECK(received == BULK_BYTES);
    CHECK(hash == job.hash);
    printf("net_loopback: 64 MiB over TCP between two threads in %lld ms\n", took);
    free(buffer);
    close(server);
}

struct echo_server {
    int listener;
    int connections;
};

// Accepts `connections` connections one after another and echoes each until EOF.
static void* echo_serially(void* arg) {
    struct echo_server* job = arg;
    for (int i = 0; i < job->connections; ++i) {
        int fd = accept(job->listener, NULL, NULL);
        CHECK(fd >= 0);
        char buffer[512];
        ssize_t n;
        while ((n = read(fd, buffer, sizeof buffer)) > 0) write_all(fd, buffer, (size_t)n);
        CHECK(n == 0);
        close(fd);
    }
    return NULL;
}

static void tcp_many_connections(void) {
    // 200 in a row, each with its own request and echo.
    struct sockaddr_in addr;
    int listener = tcp_listener(&addr);
    struct echo_server job = {listener, 200};
    pthread_t server = spawn(echo_serially, &job);
    for (int i = 0; i < 200; ++i) {
        int fd = tcp_connect(&addr);
        char request[32], reply[32];
        int size = snprintf(request, sizeof request, "connection %d", i);
        write_all(fd, request, (size_t)size);
        CHECK(shutdown(fd, SHUT_WR) == 0);
        read_exactly(fd, reply, (size_t)size);
        CHECK(memcmp(request, reply, (size_t)size) == 0);
        CHECK(read(fd, reply, sizeof reply) == 0);
        close(fd);
    }
    pthread_join(server, NULL);

    // 64 at once: all accepted, then served through one epoll set.
    enum { kCount = 64 };
    int clients[kCount], servers[kCount];
    for (int i = 0; i < kCount; ++i) clients[i] = tcp_connect(&addr);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0);
    for (int i = 0; i < kCount; ++i) {
        servers[i] = accept(listener, NULL, NULL);
        CHECK(servers[i] >= 0);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, servers[i], &ev) == 0);
    }
    struct epoll_event events[kCount];
    CHECK(epoll_wait(ep, events, kCount, 0) == 0);
    for (int i = 0; i < kCount; ++i) write_all(clients[i], &i, sizeof i);
    int served = 0;
    long long deadline = now_ms() + 10000;
    while (served < kCount && now_ms() < deadline) {
        int n = epoll_wait(ep, events, kCount, 1000);
        CHECK(n >= 0);
        for (int e = 0; e < n; ++e) {
            int fd = servers[events[e].data.u32];
            int value = -1;
            read_exactly(fd, &value, sizeof value);  // level-triggered: whole ints arrive
            write_all(fd, &value, sizeof value);
            CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) == 0);
            ++served;
        }
    }
    CHECK(served == kCount);
    for (int i = 0; i < kCount; ++i) {
        int value = -1;
        read_exactly(clients[i], &value, sizeof value);
        CHECK(value == i);
        close(clients[i]);
        close(servers[i]);
    }
    close(ep);
    close(listener);
}

static int wait_events(int ep, struct epoll_event* events, int max, int timeout_ms) {
    int n = epoll_wait(ep, events, max, timeout_ms);
    CHECK(n >= 0);
    return n;
}

static void tcp_epoll(void) {
    struct sockaddr_in addr;
    int listener = tcp_listener(&addr);
    CHECK(fcntl(listener, F_SETFL, O_NONBLOCK) == 0);
    struct epoll_event events[4];

    // Level-triggered listener: readable while a connection waits, until it is accepted.
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = listener};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev) == 0);
    CHECK(wait_events(ep, events, 4, 0) == 0);
    int c1 = tcp_connect(&addr);
    CHECK(wait_events(ep, events, 4, 5000) == 1 && events[0].events == EPOLLIN &&
          events[0].data.fd == listener);
    CHECK(wait_events(ep, events, 4, 0) == 1);
    int s1 = accept(listener, NULL, NULL);
    CHECK(s1 >= 0);
    CHECK(wait_events(ep, events, 4, 0) == 0);

    // Edge-triggered listener: once per new connection.
    ev.events = EPOLLIN | EPOLLET;
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, listener, &ev) == 0);
    int c2 = tcp_connect(&addr);
    CHECK(wait_events(ep, events, 4, 5000) == 1 && (events[0].events & EPOLLIN));
    CHECK(wait_events(ep, events, 4, 0) == 0);
    int c3 = tcp_connect(&addr);
    CHECK(wait_events(ep, events, 4, 5000) == 1);
    int s2 = accept(listener, NULL, NULL), s3 = accept(listener, NULL, NULL);
    CHECK(s2 >= 0 && s3 >= 0);
    errno = 0;
    CHECK(accept(listener, NULL, NULL) == -1 && errno == EAGAIN);
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, listener, NULL) == 0);

    // Level-triggered connection: EPOLLOUT at once, EPOLLIN until drained.
    ev = (struct epoll_event){.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP, .data.fd = s1};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, s1, &ev) == 0);
    CHECK(wait_events(ep, events, 4, 0) == 1 && events[0].events == EPOLLOUT);
    CHECK(send(c1, "abcd", 4, 0) == 4);
    CHECK(wait_events(ep, events, 4, 5000) == 1 && events[0].events == (EPOLLIN | EPOLLOUT));
    char buffer[16];
    CHECK(recv(s1, buffer, 2, 0) == 2);
    CHECK(wait_events(ep, events, 4, 0) == 1 && (events[0].events & EPOLLIN));
    CHECK(recv(s1, buffer, sizeof buffer, 0) == 2);
    CHECK(wait_events(ep, events, 4, 0) == 1 && events[0].events == EPOLLOUT);
    // The peer half-closes: EPOLLIN | EPOLLRDHUP; fully closes and resets: EPOLLHUP too.
    CHECK(shutdown(c1, SHUT_WR) == 0);
    CHECK(wait_events(ep, events, 4, 5000) == 1);
    CHECK(events[0].events == (EPOLLIN | EPOLLOUT | EPOLLRDHUP));
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, s1, NULL) == 0);

    // Edge-triggered connection: one event per arrival, not repeated while unread.
    ev = (struct epoll_event){.events = EPOLLIN | EPOLLET, .data.fd = s2};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, s2, &ev) == 0);
    CHECK(wait_events(ep, events, 4, 0) == 0);
    CHECK(send(c2, "1", 1, 0) == 1);
    CHECK(wait_events(ep, events, 4, 5000) == 1 && events[0].events == EPOLLIN);
    CHECK(wait_events(ep, events, 4, 0) == 0);
    CHECK(send(c2, "2", 1, 0) == 1);
    CHECK(wait_events(ep, events, 4, 5000) == 1 && events[0].events == EPOLLIN);
    CHECK(recv(s2, buffer, sizeof buffer, 0) == 2 && memcmp(buffer, "12", 2) == 0);
    CHECK(wait_events(ep, events, 4, 0) == 0);
    // Closing the peer is one more edge.
    close(c2);
    CHECK(wait_events(ep, events, 4, 5000) == 1 && (events[0].events & EPOLLIN));
    CHECK(recv(s2, buffer, sizeof buffer, 0) == 0);

    // Edge-triggered EPOLLOUT: reported again once a full send buffer drains.
    ev = (struct epoll_event){.events = EPOLLOUT | EPOLLET, .data.fd = s3};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, s3, &ev) == 0);
    CHECK(wait_events(ep, events, 4, 0) == 1 && events[0].events == EPOLLOUT);
    CHECK(wait_events(ep, events, 4, 0) == 0);
    CHECK(fcntl(s3, F_SETFL, O_NONBLOCK) == 0);
    static char block[65536];
    size_t queued = 0;
    for (;;) {
        ssize_t n = send(s3, block, sizeof block, 0);
        if (n < 0) {
            CHECK(errno == EAGAIN);
            break;
        }
        queued += (size_t)n;
        CHECK(queued < (256u << 20));  // a send buffer must fill up at some point
    }
    CHECK(wait_events(ep, events, 4, 0) == 0);
    size_t drained = 0;
    int writable = 0;
    while (drained < queued) {
        ssize_t n = recv(c3, block, sizeof block, 0);
        CHECK(n > 0);
        drained += (size_t)n;
        if (!writable) writable = wait_events(ep, events, 4, 0);
    }
    if (!writable) writable = wait_events(ep, events, 4, 5000);
    CHECK(writable == 1 && events[0].events == EPOLLOUT);
    printf("net_loopback: filled a send buffer with %zu bytes\n", queued);

    close(ep);
    int fds[] = {c1, c3, s1, s2, s3, listener};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; ++i) close(fds[i]);
}

static void tcp_poll_select(void) {
    struct sockaddr_in addr;
    int listener = tcp_listener(&addr);
    struct pollfd pfd = {listener, POLLIN | POLLOUT, 0};
    CHECK(poll(&pfd, 1, 0) == 0);
    int client = tcp_connect(&addr);
    CHECK(poll(&pfd, 1, 5000) == 1 && pfd.revents == POLLIN);
    fd_set readable, writable;
    FD_ZERO(&readable);
    FD_SET(listener, &readable);
    struct timeval zero = {0, 0};
    CHECK(select(listener + 1, &readable, NULL, NULL, &zero) == 1 && FD_ISSET(listener, &readable));
    int server = accept(listener, NULL, NULL);
    CHECK(server >= 0);

    struct pollfd both[2] = {{client, POLLIN | POLLOUT, 0}, {server, POLLIN | POLLOUT, 0}};
    CHECK(poll(both, 2, 0) == 2 && both[0].revents == POLLOUT && both[1].revents == POLLOUT);
    CHECK(send(client, "ping", 4, 0) == 4);
    CHECK(poll(both, 2, 5000) == 2 && both[1].revents == (POLLIN | POLLOUT));
    int nfds = (client > server ? client : server) + 1;
    FD_ZERO(&readable);
    FD_ZERO(&writable);
    FD_SET(client, &readable);
    FD_SET(server, &readable);
    FD_SET(client, &writable);
    zero = (struct timeval){0, 0};
    CHECK(select(nfds, &readable, &writable, NULL, &zero) == 2);
    CHECK(FD_ISSET(server, &readable) && !FD_ISSET(client, &readable) &&
          FD_ISSET(client, &writable));
    // select with a timeout and nothing readable: waits, then returns 0.
    char buffer[8];
    CHECK(recv(server, buffer, sizeof buffer, 0) == 4);
    FD_ZERO(&readable);
    FD_SET(server, &readable);
    struct timeval wait = {0, 50000};
    long long start = now_ms();
    CHECK(select(server + 1, &readable, NULL, NULL, &wait) == 0 && !FD_ISSET(server, &readable));
    CHECK(now_ms() - start >= 45);
    // The peer closes: POLLIN (EOF) and POLLRDHUP; POLLHUP once both directions are shut.
    close(client);
    pfd = (struct pollfd){server, POLLIN | POLLRDHUP, 0};
    CHECK(poll(&pfd, 1, 5000) == 1 && (pfd.revents & POLLIN) && (pfd.revents & POLLRDHUP));
    CHECK(shutdown(server, SHUT_WR) == 0);
    pfd = (struct pollfd){server, POLLIN, 0};
    CHECK(poll(&pfd, 1, 5000) == 1 && (pfd.revents & POLLHUP));
    close(server);
    close(listener);
}

// ---- UDP ----

static int udp_socket(struct sockaddr_in* addr) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(fd >= 0);
    struct sockaddr_in any = loopback(0);
    CHECK(bind(fd, (struct sockaddr*)&any, sizeof any) == 0);
    *addr = local_address(fd);
    CHECK(addr->sin_port != 0);
    return fd;
}

static void udp_addresses(void) {
    struct sockaddr_in a_addr, b_addr, c_addr;
    int a = udp_socket(&a_addr), b = udp_socket(&b_addr), c = udp_socket(&c_addr);
    CHECK(int_option(a, SOL_SOCKET, SO_TYPE) == SOCK_DGRAM);
    CHECK(int_option(a, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_UDP);
    char buffer[2048];
    struct sockaddr_in from;
    socklen_t len;

    // Empty: EAGAIN; poll: POLLOUT only.
    errno = 0;
    CHECK(recv(b, buffer, sizeof buffer, MSG_DONTWAIT) == -1 && errno == EAGAIN);
    struct pollfd pfd = {b, POLLIN | POLLOUT, 0};
    CHECK(poll(&pfd, 1, 0) == 1 && pfd.revents == POLLOUT);

    // sendto/recvfrom with the sender's address.
    CHECK(sendto(a, "to b", 4, 0, (struct sockaddr*)&b_addr, sizeof b_addr) == 4);
    pfd.events = POLLIN;
    CHECK(poll(&pfd, 1, 5000) == 1 && pfd.revents == POLLIN);
    len = sizeof from;
    CHECK(recvfrom(b, buffer, sizeof buffer, 0, (struct sockaddr*)&from, &len) == 4);
    CHECK(len == sizeof from && from.sin_port == a_addr.sin_port &&
          from.sin_addr.s_addr == htonl(INADDR_LOOPBACK) && memcmp(buffer, "to b", 4) == 0);

    // connect: send/recv without addresses, and only the peer's datagrams arrive.
    CHECK(connect(a, (struct sockaddr*)&b_addr, sizeof b_addr) == 0);
    len = sizeof from;
    CHECK(getpeername(a, (struct sockaddr*)&from, &len) == 0 && from.sin_port == b_addr.sin_port);
    CHECK(send(a, "connected", 9, 0) == 9);
    CHECK(recv(b, buffer, sizeof buffer, 0) == 9 && memcmp(buffer, "connected", 9) == 0);
    CHECK(sendto(c, "from c", 6, 0, (struct sockaddr*)&a_addr, sizeof a_addr) == 6);
    CHECK(sendto(b, "from b", 6, 0, (struct sockaddr*)&a_addr, sizeof a_addr) == 6);
    len = sizeof from;
    CHECK(recvfrom(a, buffer, sizeof buffer, 0, (struct sockaddr*)&from, &len) == 6);
    CHECK(memcmp(buffer, "from b", 6) == 0 && from.sin_port == b_addr.sin_port);
    errno = 0;
    CHECK(recv(a, buffer, sizeof buffer, MSG_DONTWAIT) == -1 && errno == EAGAIN);
    // c's datagram found no socket: c hears ECONNREFUSED only if connected, so drain nothing.

    // Empty datagrams exist.
    CHECK(send(a, "", 0, 0) == 0);
    CHECK(recv(b, buffer, sizeof buffer, 0) == 0);
    errno = 0;
    CHECK(recv(b, buffer, sizeof buffer, MSG_DONTWAIT) == -1 && errno == EAGAIN);
    close(a);
    close(b);
    close(c);
}

static void udp_datagrams(void) {
    struct sockaddr_in a_addr, b_addr;
    int a = udp_socket(&a_addr), b = udp_socket(&b_addr);
    CHECK(connect(a, (struct sockaddr*)&b_addr, sizeof b_addr) == 0);
    char big[1000], buffer[2048];
    for (size_t i = 0; i < sizeof big; ++i) big[i] = (char)('a' + i % 26);

    // FIONREAD is the size of the next datagram; MSG_PEEK leaves it queued.
    CHECK(send(a, big, 300, 0) == 300);
    CHECK(send(a, big, 500, 0) == 500);
    struct pollfd pfd = {b, POLLIN, 0};
    CHECK(poll(&pfd, 1, 5000) == 1);
    int available = -1;
    CHECK(ioctl(b, FIONREAD, &available) == 0 && available == 300);
    CHECK(recv(b, buffer, sizeof buffer, MSG_PEEK) == 300);
    CHECK(recv(b, buffer, 10, MSG_PEEK) == 10);
    CHECK(recv(b, buffer, sizeof buffer, 0) == 300 && memcmp(buffer, big, 300) == 0);
    CHECK(ioctl(b, FIONREAD, &available) == 0 && available == 500);
    CHECK(recv(b, buffer, sizeof buffer, 0) == 500);
    CHECK(ioctl(b, FIONREAD, &available) == 0 && available == 0);

    // A short buffer truncates; MSG_TRUNC returns the real length; the rest is gone.
    CHECK(send(a, big, 100, 0) == 100);
    CHECK(send(a, big, 100, 0) == 100);
    CHECK(send(a, "next", 4, 0) == 4);
    char small[10];
    CHECK(recv(b, small, sizeof small, 0) == 10 && memcmp(small, big, 10) == 0);
    struct iovec iov = {small, sizeof small};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    CHECK(recvmsg(b, &msg, MSG_TRUNC) == 100 && (msg.msg_flags & MSG_TRUNC));
    msg.msg_flags = 0;
    CHECK(recvmsg(b, &msg, 0) == 4 && !(msg.msg_flags & MSG_TRUNC) &&
          memcmp(small, "next", 4) == 0);

    // sendmmsg/recvmmsg: 8 datagrams each way in one call.
    enum { kCount = 8 };
    struct mmsghdr out[kCount], in[kCount];
    struct iovec out_iov[kCount], in_iov[kCount];
    char payload[kCount][32], received[kCount][64];
    for (int i = 0; i < kCount; ++i) {
        int size = snprintf(payload[i], sizeof payload[i], "datagram %d%.*s", i, i, "xxxxxxxx");
        out_iov[i] = (struct iovec){payload[i], (size_t)size};
        out[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &out_iov[i], .msg_iovlen = 1}};
        in_iov[i] = (struct iovec){received[i], sizeof received[i]};
        in[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &in_iov[i], .msg_iovlen = 1}};
    }
    CHECK(sendmmsg(a, out, kCount, 0) == kCount);
    for (int i = 0; i < kCount; ++i) CHECK(out[i].msg_len == out_iov[i].iov_len);
    CHECK(poll(&pfd, 1, 5000) == 1);
    int got = 0;
    while (got < kCount) {
        struct timespec timeout = {5, 0};
        int n = recvmmsg(b, in + got, (unsigned)(kCount - got), MSG_WAITFORONE, &timeout);
        CHECK(n > 0);
        got += n;
    }
    for (int i = 0; i < kCount; ++i)
        CHECK(in[i].msg_len == out_iov[i].iov_len &&
              memcmp(received[i], payload[i], in[i].msg_len) == 0);
    close(a);
    close(b);
}

static void udp_port_unreachable(void) {
    // A connected UDP socket hears the ICMP port unreachable its datagram caused.
    struct sockaddr_in gone_addr, a_addr;
    int gone = udp_socket(&gone_addr);
    close(gone);
    int a = udp_socket(&a_addr);
    CHECK(connect(a, (struct sockaddr*)&gone_addr, sizeof gone_addr) == 0);
    struct timeval timeout = {2, 0};
    CHECK(setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) == 0);
    CHECK(send(a, "anyone?", 7, 0) == 7);
    char buffer[16];
    errno = 0;
    CHECK(recv(a, buffer, sizeof buffer, 0) == -1 && errno == ECONNREFUSED);
    // The error is reported once.
    errno = 0;
    CHECK(recv(a, buffer, sizeof buffer, MSG_DONTWAIT) == -1 && errno == EAGAIN);
    close(a);
}

// ---- AF_UNIX ----

static void unix_socketpairs(void) {
    int sv[2];
    char buffer[64];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK(int_option(sv[0], SOL_SOCKET, SO_TYPE) == SOCK_STREAM);
    CHECK(int_option(sv[0], SOL_SOCKET, SO_DOMAIN) == AF_UNIX);
    struct ucred cred;
    socklen_t len = sizeof cred;
    CHECK(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && len == sizeof cred);
    CHECK(cred.pid == getpid() && cred.uid == getuid() && cred.gid == getgid());
    // A stream: bytes, in order, either way; no boundaries.
    CHECK(write(sv[0], "abc", 3) == 3 && write(sv[0], "def", 3) == 3);
    struct pollfd pfd = {sv[1], POLLIN | POLLOUT, 0};
    CHECK(poll(&pfd, 1, 5000) == 1 && pfd.revents == (POLLIN | POLLOUT));
    int available = -1;
    CHECK(ioctl(sv[1], FIONREAD, &available) == 0 && available == 6);
    CHECK(recv(sv[1], buffer, 6, MSG_WAITALL) == 6 && memcmp(buffer, "abcdef", 6) == 0);
    CHECK(write(sv[1], "back", 4) == 4);
    CHECK(read(sv[0], buffer, sizeof buffer) == 4 && memcmp(buffer, "back", 4) == 0);
    errno = 0;
    CHECK(recv(sv[0], buffer, sizeof buffer, MSG_DONTWAIT) == -1 && errno == EAGAIN);
    // The peer closes: EOF with POLLIN|POLLHUP, then EPIPE (SIGPIPE is ignored here).
    close(sv[1]);
    pfd = (struct pollfd){sv[0], POLLIN, 0};
    CHECK(poll(&pfd, 1, 5000) == 1 && (pfd.revents & POLLIN) && (pfd.revents & POLLHUP));
    CHECK(read(sv[0], buffer, sizeof buffer) == 0);
    errno = 0;
    CHECK(write(sv[0], "x", 1) == -1 && errno == EPIPE);
    close(sv[0]);

    // Datagrams keep their boundaries.
    CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) == 0);
    CHECK(int_option(sv[0], SOL_SOCKET, SO_TYPE) == SOCK_DGRAM);
    CHECK(fcntl(sv[0], F_GETFD) == FD_CLOEXEC);
    CHECK(send(sv[0], "one", 3, 0) == 3);
    CHECK(send(sv[0], "", 0, 0) == 0);
    CHECK(send(sv[0], "three", 5, 0) == 5);
    CHECK(recv(sv[1], buffer, sizeof buffer, 0) == 3);
    CHECK(recv(sv[1], buffer, sizeof buffer, 0) == 0);
    CHECK(recv(sv[1], buffer, 2, 0) == 2 && memcmp(buffer, "th", 2) == 0);  // rest dropped
    errno = 0;
    CHECK(recv(sv[1], buffer, sizeof buffer, MSG_DONTWAIT) == -1 && errno == EAGAIN);
    CHECK(send(sv[1], "reply", 5, 0) == 5);
    CHECK(recv(sv[0], buffer, sizeof buffer, 0) == 5 && memcmp(buffer, "reply", 5) == 0);
    close(sv[0]);
    close(sv[1]);
}

// Listens on `addr` (a path or an abstract name), connects, accepts and checks the names each
// side reports and the peer's credentials.
static void unix_named(const struct sockaddr_un* addr, socklen_t addr_len) {
    int listener = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(listener >= 0);
    CHECK(bind(listener, (const struct sockaddr*)addr, addr_len) == 0);
    CHECK(listen(listener, 8) == 0);
    CHECK(int_option(listener, SOL_SOCKET, SO_ACCEPTCONN) == 1);
    struct sockaddr_un name;
    socklen_t len = sizeof name;
    CHECK(getsockname(listener, (struct sockaddr*)&name, &len) == 0);
    CHECK(len == addr_len && memcmp(&name, addr, addr_len) == 0);
    // The name is taken.
    int other = socket(AF_UNIX, SOCK_STREAM, 0);
    errno = 0;
    CHECK(bind(other, (const struct sockaddr*)addr, addr_len) == -1 && errno == EADDRINUSE);
    close(other);

    int client = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(client >= 0);
    CHECK(connect(client, (const struct sockaddr*)addr, addr_len) == 0);
    struct pollfd pfd = {listener, POLLIN, 0};
    CHECK(poll(&pfd, 1, 5000) == 1 && pfd.revents == POLLIN);
    int server = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    CHECK(server >= 0 && fcntl(server, F_GETFD) == FD_CLOEXEC);
    len = sizeof name;
    CHECK(getpeername(client, (struct sockaddr*)&name, &len) == 0);
    CHECK(len == addr_len && memcmp(&name, addr, addr_len) == 0);
    len = sizeof name;
    CHECK(getsockname(server, (struct sockaddr*)&name, &len) == 0);
    CHECK(len == addr_len && memcmp(&name, addr, addr_len) == 0);
    // The client never bound: its name is just the family.
    len = sizeof name;
    CHECK(getsockname(client, (struct sockaddr*)&name, &len) == 0);
    CHECK(len == sizeof(sa_family_t) && name.sun_family == AF_UNIX);
    len = sizeof name;
    CHECK(getpeername(server, (struct sockaddr*)&name, &len) == 0 && len == sizeof(sa_family_t));
    struct ucred cred;
    len = sizeof cred;
    CHECK(getsockopt(server, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0);
    CHECK(cred.pid == getpid() && cred.uid == getuid() && cred.gid == getgid());
    len = sizeof cred;
    CHECK(getsockopt(client, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.pid == getpid());

    char buffer[16];
    CHECK(send(client, "unix", 4, 0) == 4);
    CHECK(recv(server, buffer, 4, MSG_WAITALL) == 4 && memcmp(buffer, "unix", 4) == 0);
    close(client);
    CHECK(recv(server, buffer, sizeof buffer, 0) == 0);
    errno = 0;
    CHECK(send(server, "x", 1, 0) == -1 && errno == EPIPE);
    close(server);
    close(listener);
}

static void unix_named_sockets(void) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "/tmp/net_loopback.%d.sock", (int)getpid());
    unlink(addr.sun_path);
    socklen_t path_len =
        (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(addr.sun_path) + 1);
    // Nobody there yet.
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    errno = 0;
    CHECK(connect(fd, (struct sockaddr*)&addr, path_len) == -1 && errno == ENOENT);
    close(fd);
    unix_named(&addr, path_len);
    struct stat st;
    CHECK(stat(addr.sun_path, &st) == 0 && S_ISSOCK(st.st_mode));  // outlives its socket
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    errno = 0;
    CHECK(connect(fd, (struct sockaddr*)&addr, path_len) == -1 && errno == ECONNREFUSED);
    close(fd);
    CHECK(unlink(addr.sun_path) == 0);

    // An abstract name: a leading NUL, no file, the length says where it ends.
    struct sockaddr_un abstract = {.sun_family = AF_UNIX};
    int n = snprintf(abstract.sun_path + 1, sizeof abstract.sun_path - 1, "phoenix-net-loopback-%d",
                     (int)getpid());
    socklen_t abstract_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    unix_named(&abstract, abstract_len);
    // Gone with its socket.
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    errno = 0;
    CHECK(connect(fd, (struct sockaddr*)&abstract, abstract_len) == -1 && errno == ECONNREFUSED);
    close(fd);

    // Datagram sockets with names: sendto a path, recvfrom tells the sender's name.
    struct sockaddr_un dgram_addr = {.sun_family = AF_UNIX};
    n = snprintf(dgram_addr.sun_path + 1, sizeof dgram_addr.sun_path - 1,
                 "phoenix-net-loopback-dgram-%d", (int)getpid());
    socklen_t dgram_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    int receiver = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(bind(receiver, (struct sockaddr*)&dgram_addr, dgram_len) == 0);
    int sender = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(sendto(sender, "dgram", 5, 0, (struct sockaddr*)&dgram_addr, dgram_len) == 5);
    CHECK(sendto(sender, "gram2", 5, 0, (struct sockaddr*)&dgram_addr, dgram_len) == 5);
    char buffer[16];
    struct pollfd pfd = {receiver, POLLIN, 0};
    CHECK(poll(&pfd, 1, 5000) == 1 && pfd.revents == POLLIN);
    CHECK(recv(receiver, buffer, sizeof buffer, 0) == 5 && memcmp(buffer, "dgram", 5) == 0);
    CHECK(recv(receiver, buffer, sizeof buffer, 0) == 5 && memcmp(buffer, "gram2", 5) == 0);
    close(sender);
    close(receiver);

    // A relative path resolves from the cwd; a socket file cannot be open()ed; datagrams go
    // to a path; a stream socket cannot connect to a datagram socket's file.
    char cwd[256];
    CHECK(getcwd(cwd, sizeof cwd) != NULL && chdir("/tmp") == 0);
    struct sockaddr_un relative = {.sun_family = AF_UNIX};
    snprintf(relative.sun_path, sizeof relative.sun_path, "net_loopback.%d.dgram", (int)getpid());
    socklen_t relative_len =
        (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(relative.sun_path) + 1);
    char full[sizeof relative.sun_path + 8];
    snprintf(full, sizeof full, "/tmp/%s", relative.sun_path);
    receiver = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(bind(receiver, (struct sockaddr*)&relative, relative_len) == 0);
    CHECK(stat(full, &st) == 0 && S_ISSOCK(st.st_mode));
    errno = 0;
    CHECK(open(full, O_RDONLY) == -1 && errno == ENXIO);
    sender = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(sendto(sender, "path", 4, 0, (struct sockaddr*)&relative, relative_len) == 4);
    CHECK(recv(receiver, buffer, sizeof buffer, MSG_DONTWAIT) == 4 &&
          memcmp(buffer, "path", 4) == 0);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    errno = 0;
    CHECK(connect(fd, (struct sockaddr*)&relative, relative_len) == -1 && errno == EPROTOTYPE);
    close(fd);
    CHECK(unlink(full) == 0);
    errno = 0;
    CHECK(sendto(sender, "gone", 4, 0, (struct sockaddr*)&relative, relative_len) == -1 &&
          errno == ENOENT);
    close(sender);
    close(receiver);
    CHECK(chdir(cwd) == 0);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    CHECK(signal(SIGPIPE, SIG_IGN) != SIG_ERR);
    section("tcp options");
    tcp_options();
    section("tcp bind and listen");
    tcp_listen_and_bind();
    section("tcp connect and accept");
    tcp_connects();
    section("tcp data");
    tcp_data();
    section("tcp shutdown and close");
    tcp_shutdown_and_close();
    section("tcp epoll");
    tcp_epoll();
    section("tcp poll and select");
    tcp_poll_select();
    section("tcp many connections");
    tcp_many_connections();
    section("tcp bulk");
    tcp_bulk();
    section("udp addresses");
    udp_addresses();
    section("udp datagrams");
    udp_datagrams();
    section("udp port unreachable");
    udp_port_unreachable();
    section("unix socketpairs");
    unix_socketpairs();
    section("unix named sockets");
    unix_named_sockets();
    printf("net_loopback ok\n");
    return 0;
}
