// A small, fast HTTP/1.1 server: one thread, epoll, non-blocking sockets, keep-alive and
// pipelining; every GET gets 200 "Hello from Phoenix\n", HEAD the same headers, anything else
// 405. `http_server [PORT [ADDRESS]]` (default 8080, 0 picks one; 0.0.0.0) listens and prints
// "http_server listening on PORT" once it does. Used by tests/integration/net_test.cc and by
// bench/net (wrk).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

#define BODY "Hello from Phoenix\n"
static const char kOk[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 19\r\n\r\n" BODY;
static const char kOkHead[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 19\r\n\r\n";
static const char kNotAllowed[] =
    "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\n\r\n";
static const char kTooLarge[] =
    "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: "
    "close\r\n\r\n";

enum { kInputSize = 16384 };

struct connection {
    char in[kInputSize];
    size_t in_len;
    size_t body_left;  // request body bytes still to skip
    char* out;
    size_t out_len, out_cap, out_sent;
    int closing;      // close once `out` is sent
    int input_done;   // end of file seen: watch for EPOLLOUT only
    uint32_t events;  // what epoll watches for
};

static struct connection** g_connections;
static size_t g_capacity;
static int g_epoll;

static struct connection* connection_for(int fd) {
    if ((size_t)fd >= g_capacity) {
        size_t capacity = g_capacity ? g_capacity : 1024;
        while (capacity <= (size_t)fd) capacity *= 2;
        struct connection** grown = realloc(g_connections, capacity * sizeof *grown);
        CHECK(grown != NULL);
        memset(grown + g_capacity, 0, (capacity - g_capacity) * sizeof *grown);
        g_connections = grown;
        g_capacity = capacity;
    }
    if (!g_connections[fd]) {
        g_connections[fd] = calloc(1, sizeof(struct connection));
        CHECK(g_connections[fd] != NULL);
    }
    return g_connections[fd];
}

static void drop(int fd) {
    struct connection* c = g_connections[fd];
    free(c->out);
    free(c);
    g_connections[fd] = NULL;
    close(fd);  // also leaves the epoll set
}

static void queue(struct connection* c, const char* data, size_t size) {
    if (c->out_len + size > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + size) cap *= 2;
        c->out = realloc(c->out, cap);
        CHECK(c->out != NULL);
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, size);
    c->out_len += size;
}

static void update_events(int fd, struct connection* c) {
    uint32_t events = (c->input_done ? 0 : EPOLLIN | EPOLLRDHUP) | (c->out_len ? EPOLLOUT : 0);
    if (events == c->events) return;
    struct epoll_event ev = {.events = events, .data.fd = fd};
    CHECK(epoll_ctl(g_epoll, EPOLL_CTL_MOD, fd, &ev) == 0);
    c->events = events;
}

// Sends what is queued; returns 0 when the connection is gone.
static int flush_output(int fd, struct connection* c) {
    while (c->out_sent < c->out_len) {
        ssize_t n = send(fd, c->out + c->out_sent, c->out_len - c->out_sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) break;
            drop(fd);
            return 0;
        }
        c->out_sent += (size_t)n;
    }
    if (c->out_sent == c->out_len) {
        c->out_sent = c->out_len = 0;
        if (c->closing) {
            drop(fd);
            return 0;
        }
    }
    update_events(fd, c);
    return 1;
}

// The value of header `name` in the header block [start, end), or NULL.
static const char* header(const char* start, const char* end, const char* name) {
    size_t len = strlen(name);
    for (const char* line = start; line < end;) {
        const char* eol = memmem(line, (size_t)(end - line), "\r\n", 2);
        if (!eol) eol = end;
        if ((size_t)(eol - line) > len && line[len] == ':' && strncasecmp(line, name, len) == 0) {
            const char* value = line + len + 1;
            while (value < eol && (*value == ' ' || *value == '\t')) ++value;
            return value;
        }
        line = eol + 2;
    }
    return NULL;
}

// Answers one request whose header block is [start, end) (end at the blank line).
static void answer(struct connection* c, const char* start, const char* end) {
    const char* eol = memmem(start, (size_t)(end - start), "\r\n", 2);
    if (!eol) eol = end;
    int http10 = memmem(start, (size_t)(eol - start), "HTTP/1.0", 8) != NULL;
    const char* connection = header(eol, end, "Connection");
    if (connection && strncasecmp(connection, "close", 5) == 0) c->closing = 1;
    if (http10 && !(connection && strncasecmp(connection, "keep-alive", 10) == 0)) c->closing = 1;
    const char* length = header(eol, end, "Content-Length");
    if (length) c->body_left = strtoul(length, NULL, 10);
    if (strncmp(start, "GET ", 4) == 0) {
        queue(c, kOk, sizeof kOk - 1);
    } else if (strncmp(start, "HEAD ", 5) == 0) {
        queue(c, kOkHead, sizeof kOkHead - 1);
    } else {
        queue(c, kNotAllowed, sizeof kNotAllowed - 1);
    }
}

// Answers every complete request in the input; returns 0 when the connection is gone.
static int serve(int fd, struct connection* c) {
    size_t used = 0;
    while (used < c->in_len && !c->closing) {
        if (c->body_left) {
            size_t skip = c->in_len - used < c->body_left ? c->in_len - used : c->body_left;
            used += skip;
            c->body_left -= skip;
            continue;
        }
        char* start = c->in + used;
        char* end = memmem(start, c->in_len - used, "\r\n\r\n", 4);
        if (!end) break;
        answer(c, start, end);
        used = (size_t)(end + 4 - c->in);
    }
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
    if (c->in_len == sizeof c->in && !c->closing) {
        queue(c, kTooLarge, sizeof kTooLarge - 1);
        c->closing = 1;
    }
    return flush_output(fd, c);
}

static void on_readable(int fd) {
    struct connection* c = g_connections[fd];
    for (;;) {
        char sink[4096];
        // After its last request (Connection: close), the rest of the input is ignored.
        char* into = c->closing ? sink : c->in + c->in_len;
        size_t room = c->closing ? sizeof sink : sizeof c->in - c->in_len;
        ssize_t n = recv(fd, into, room, 0);
        if (n > 0) {
            if (c->closing) continue;
            c->in_len += (size_t)n;
            if (!serve(fd, c)) return;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        // End of file (the client is done sending): finish what is queued, then close.
        if (n == 0 && c->out_len) {
            c->closing = c->input_done = 1;
            flush_output(fd, c);
            return;
        }
        drop(fd);
        return;
    }
}

static void on_listener(int listener) {
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            // EMFILE and friends: try again on the next readiness.
            CHECK(errno == EAGAIN || errno == EINTR || errno == ECONNABORTED || errno == EMFILE ||
                  errno == ENFILE || errno == ENOBUFS || errno == ENOMEM);
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        connection_for(fd)->events = EPOLLIN | EPOLLRDHUP;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = fd};
        CHECK(epoll_ctl(g_epoll, EPOLL_CTL_ADD, fd, &ev) == 0);
    }
}

int main(int argc, char** argv) {
    int port = argc > 1 ? atoi(argv[1]) : 8080;
    CHECK(port >= 0 && port < 65536);
    signal(SIGPIPE, SIG_IGN);
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK(listener >= 0);
    int one = 1;
    CHECK(setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    CHECK(inet_pton(AF_INET, argc > 2 ? argv[2] : "0.0.0.0", &addr.sin_addr) == 1);
    CHECK(bind(listener, (struct sockaddr*)&addr, sizeof addr) == 0);
    CHECK(listen(listener, 1024) == 0);
    socklen_t len = sizeof addr;
    CHECK(getsockname(listener, (struct sockaddr*)&addr, &len) == 0);
    g_epoll = epoll_create1(EPOLL_CLOEXEC);
    CHECK(g_epoll >= 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = listener};
    CHECK(epoll_ctl(g_epoll, EPOLL_CTL_ADD, listener, &ev) == 0);
    printf("http_server listening on %d\n", ntohs(addr.sin_port));
    fflush(stdout);

    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(g_epoll, events, 256, -1);
        if (n < 0 && errno == EINTR) continue;
        CHECK(n >= 0);
        for (int i = 0; i < n; ++i) {
            int fd = events[i].data.fd;
            if (fd == listener) {
                on_listener(listener);
                continue;
            }
            if ((size_t)fd >= g_capacity || !g_connections[fd]) continue;  // dropped already
            if (events[i].events & EPOLLOUT) {
                if (!flush_output(fd, g_connections[fd])) continue;
            }
            if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_readable(fd);
        }
    }
}
