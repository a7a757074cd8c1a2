// bench/net's HTTP server: one thread, epoll, keep-alive; every request (pipelined or not)
// gets 200 "Hello from Phoenix\n". The same static binary runs on the host, in the Linux
// guest's initramfs and inside Phoenix. Usage: http_server PORT; prints
// "http_server listening on PORT" once it accepts connections.
#define _GNU_SOURCE  // accept4, memmem
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNECTIONS 1024
#define BUFFER_SIZE 8192

static const char kResponse[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 19\r\n"
    "Connection: keep-alive\r\n"
    "\r\n"
    "Hello from Phoenix\n";

struct connection {
    int fd;
    size_t used;
    char buffer[BUFFER_SIZE];
};

static struct connection* connections[MAX_CONNECTIONS];

static void close_connection(int epoll_fd, struct connection* c) {
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    if (c->fd < MAX_CONNECTIONS) connections[c->fd] = NULL;
    free(c);
}

static int write_all(int fd, const char* data, size_t length) {
    while (length > 0) {
        ssize_t n = write(fd, data, length);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            // A full send buffer: a client that pipelines faster than it reads. Wait (1 s at
            // most) rather than buffer responses.
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            if (poll(&pfd, 1, 1000) == 1) continue;
            return -1;
        }
        if (n <= 0) return -1;
        data += n;
        length -= (size_t)n;
    }
    return 0;
}

// Answers every complete request in the buffer; returns -1 when the connection should close.
static int serve(struct connection* c) {
    char* start = c->buffer;
    char* end = c->buffer + c->used;
    for (;;) {
        char* header_end = memmem(start, (size_t)(end - start), "\r\n\r\n", 4);
        if (!header_end) break;
        if (write_all(c->fd, kResponse, sizeof kResponse - 1) != 0) return -1;
        start = header_end + 4;
    }
    c->used = (size_t)(end - start);
    memmove(c->buffer, start, c->used);
    return c->used == sizeof c->buffer ? -1 : 0;  // a header larger than the buffer
}

static void on_readable(int epoll_fd, struct connection* c) {
    for (;;) {
        ssize_t n = read(c->fd, c->buffer + c->used, sizeof c->buffer - c->used);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) break;
        c->used += (size_t)n;
        if (serve(c) != 0) break;
    }
    close_connection(epoll_fd, c);
}

static void on_acceptable(int epoll_fd, int listen_fd) {
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        struct connection* c = fd < MAX_CONNECTIONS ? calloc(1, sizeof *c) : NULL;
        if (!c) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd = fd;
        connections[fd] = c;
        struct epoll_event event = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) close_connection(epoll_fd, c);
    }
}

int main(int argc, char** argv) {
    int port = argc > 1 ? atoi(argv[1]) : 8080;
    signal(SIGPIPE, SIG_IGN);
    int listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    address.sin_addr.s_addr = htonl(INADDR_ANY);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr*)&address, sizeof address) != 0 ||
        listen(listen_fd, 128) != 0) {
        perror("http_server: socket/bind/listen");
        return 1;
    }
    int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event event = {.events = EPOLLIN, .data.fd = listen_fd};
    if (epoll_fd < 0 || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &event) != 0) {
        perror("http_server: epoll");
        return 1;
    }
    printf("http_server listening on %d\n", port);
    fflush(stdout);
    struct epoll_event events[64];
    for (;;) {
        int n = epoll_wait(epoll_fd, events, 64, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            perror("http_server: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; ++i) {
            int fd = events[i].data.fd;
            if (fd == listen_fd)
                on_acceptable(epoll_fd, listen_fd);
            else if (fd < MAX_CONNECTIONS && connections[fd])
                on_readable(epoll_fd, connections[fd]);
        }
    }
}
