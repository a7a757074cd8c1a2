// An epoll echo server: `echo_server [PORT [ADDRESS]]` (default 7, 0 picks one; 0.0.0.0) listens,
// prints "echo_server listening on PORT" and sends every connection back what it sends, until
// the client closes (or half-closes: the echo is finished, then the connection is closed).
// Backpressure: when the client does not read, a write hits EAGAIN; the unsent bytes are
// kept, reading from that client stops, and EPOLLOUT resumes it. One thread, non-blocking.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

enum { kBufferSize = 256 * 1024 };

struct connection {
    char* pending;  // read but not yet echoed: [sent, len)
    size_t sent, len;
    int eof;  // the client half-closed: close once pending is echoed
    uint32_t events;
};

struct slot {
    int fd;
    struct connection c;
};

static int g_epoll;

static void watch(struct slot* s, uint32_t events) {
    if (events == s->c.events) return;
    struct epoll_event ev = {.events = events, .data.ptr = s};
    CHECK(epoll_ctl(g_epoll, EPOLL_CTL_MOD, s->fd, &ev) == 0);
    s->c.events = events;
}

static void drop(struct slot* s) {
    close(s->fd);
    free(s->c.pending);
    free(s);
}

// Echoes what is pending; returns 0 when the client is gone.
static int flush_pending(struct slot* s) {
    struct connection* c = &s->c;
    while (c->sent < c->len) {
        ssize_t n = send(s->fd, c->pending + c->sent, c->len - c->sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return 1;
            return 0;
        }
        c->sent += (size_t)n;
    }
    c->sent = c->len = 0;
    return 1;
}

// Reads, echoes and re-arms one connection; frees it when it is done.
static void service(struct slot* s) {
    struct connection* c = &s->c;
    if (!flush_pending(s)) return drop(s);
    while (c->len == 0 && !c->eof) {
        ssize_t n = recv(s->fd, c->pending, kBufferSize, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        if (n <= 0) {
            c->eof = 1;  // end of file, or an error the next send will also report
            break;
        }
        c->len = (size_t)n;
        if (!flush_pending(s)) return drop(s);
    }
    if (c->len == 0 && c->eof) return drop(s);
    // Unsent bytes: wait until the client can take more, and read nothing meanwhile.
    watch(s, c->len ? EPOLLOUT : EPOLLIN | EPOLLRDHUP);
}

static void accept_all(int listener) {
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            CHECK(errno == EAGAIN || errno == EINTR || errno == ECONNABORTED || errno == EMFILE ||
                  errno == ENFILE || errno == ENOBUFS || errno == ENOMEM);
            return;
        }
        struct slot* s = calloc(1, sizeof *s);
        CHECK(s != NULL);
        s->c.pending = malloc(kBufferSize);
        CHECK(s->c.pending != NULL);
        s->fd = fd;
        s->c.events = EPOLLIN | EPOLLRDHUP;
        struct epoll_event ev = {.events = s->c.events, .data.ptr = s};
        CHECK(epoll_ctl(g_epoll, EPOLL_CTL_ADD, fd, &ev) == 0);
    }
}

int main(int argc, char** argv) {
    int port = argc > 1 ? atoi(argv[1]) : 7;
    CHECK(port >= 0 && port < 65536);
    signal(SIGPIPE, SIG_IGN);
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK(listener >= 0);
    int one = 1;
    CHECK(setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    CHECK(inet_pton(AF_INET, argc > 2 ? argv[2] : "0.0.0.0", &addr.sin_addr) == 1);
    CHECK(bind(listener, (struct sockaddr*)&addr, sizeof addr) == 0);
    CHECK(listen(listener, 128) == 0);
    socklen_t len = sizeof addr;
    CHECK(getsockname(listener, (struct sockaddr*)&addr, &len) == 0);
    g_epoll = epoll_create1(EPOLL_CLOEXEC);
    CHECK(g_epoll >= 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};  // NULL: the listener
    CHECK(epoll_ctl(g_epoll, EPOLL_CTL_ADD, listener, &ev) == 0);
    printf("echo_server listening on %d\n", ntohs(addr.sin_port));
    fflush(stdout);

    struct epoll_event events[64];
    for (;;) {
        int n = epoll_wait(g_epoll, events, 64, -1);
        if (n < 0 && errno == EINTR) continue;
        CHECK(n >= 0);
        for (int i = 0; i < n; ++i) {
            if (events[i].data.ptr == NULL) {
                accept_all(listener);
            } else {
                service(events[i].data.ptr);
            }
        }
    }
}
