// Connects out of the guest (tests/integration/net_test.cc runs the other end on the host):
//   net_client tcp HOST PORT            sends 1 MiB of a pattern to an echo server, half-closes,
//                                       reads the echo back and checks it: "net_client tcp ok"
//   net_client dns NSADDR NSPORT NAME   asks the DNS server at NSADDR:NSPORT for NAME's A
//                                       record: "net_client dns NAME A.B.C.D"
// HOST and NSADDR are dotted IPv4 addresses. The DNS lookup goes through glibc's resolver
// (res_init, then _res.nsaddr_list[0] with the port and nscount 1, then res_query); if that
// fails (or NET_CLIENT_DNS_BY_HAND=1), through a query built by hand and sent with
// sendto/recvfrom. It prints which.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define TCP_BYTES (1u << 20)

static unsigned char pattern(size_t i) { return (unsigned char)((i * 131 + (i >> 10)) ^ 0x5a); }

static struct sockaddr_in address(const char* host, const char* port) {
    struct sockaddr_in addr = {.sin_family = AF_INET};
    CHECK(inet_pton(AF_INET, host, &addr.sin_addr) == 1);
    long p = strtol(port, NULL, 10);
    CHECK(p > 0 && p < 65536);
    addr.sin_port = htons((uint16_t)p);
    return addr;
}

// Writes and reads at once (poll), so that neither side's buffers can fill up and stall.
static int run_tcp(const char* host, const char* port) {
    struct sockaddr_in addr = address(host, port);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    CHECK(connect(fd, (struct sockaddr*)&addr, sizeof addr) == 0);
    CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
    static unsigned char out[TCP_BYTES], in[65536];
    for (size_t i = 0; i < TCP_BYTES; ++i) out[i] = pattern(i);
    size_t sent = 0, received = 0;
    int write_open = 1;
    for (;;) {
        struct pollfd pfd = {fd, POLLIN | (write_open ? POLLOUT : 0), 0};
        int ready = poll(&pfd, 1, 30000);
        CHECK(ready == 1);  // 30 s without progress: the echo stalled
        if (write_open && (pfd.revents & POLLOUT)) {
            ssize_t n = send(fd, out + sent, TCP_BYTES - sent, MSG_NOSIGNAL);
            CHECK(n > 0 || errno == EAGAIN);
            if (n > 0) sent += (size_t)n;
            if (sent == TCP_BYTES) {
                CHECK(shutdown(fd, SHUT_WR) == 0);
                write_open = 0;
            }
        }
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(fd, in, sizeof in, 0);
            CHECK(n >= 0 || errno == EAGAIN);
            if (n == 0) break;
            for (ssize_t i = 0; i < n; ++i) {
                if (in[i] != pattern(received + (size_t)i)) {
                    printf("FAILED: echo differs at byte %zu\n", received + (size_t)i);
                    return 1;
                }
            }
            if (n > 0) received += (size_t)n;
            CHECK(received <= sent);
        }
    }
    CHECK(!write_open && received == TCP_BYTES);
    close(fd);
    printf("net_client tcp ok\n");
    return 0;
}

// The first A record in a DNS response, or 0 when there is none.
static int first_a_record(const unsigned char* msg, size_t len, uint16_t id, struct in_addr* out) {
    if (len < 12 || ((msg[0] << 8) | msg[1]) != id || !(msg[2] & 0x80) || (msg[3] & 0x0f)) return 0;
    unsigned questions = (unsigned)(msg[4] << 8 | msg[5]),
             answers = (unsigned)(msg[6] << 8 | msg[7]);
    size_t at = 12;
    // Names: labels up to a zero byte, or a two-byte compression pointer.
    for (unsigned r = 0; r < questions + answers; ++r) {
        while (at < len && msg[at] != 0 && (msg[at] & 0xc0) != 0xc0) at += 1u + msg[at];
        at += at < len && msg[at] != 0 ? 2 : 1;
        if (r < questions) {
            at += 4;  // type, class
            continue;
        }
        if (at + 10 > len) return 0;
        unsigned type = (unsigned)(msg[at] << 8 | msg[at + 1]);
        unsigned class = (unsigned)(msg[at + 2] << 8 | msg[at + 3]);
        size_t rdlength = (size_t)(msg[at + 8] << 8 | msg[at + 9]);
        at += 10;
        if (at + rdlength > len) return 0;
        if (type == 1 && class == 1 && rdlength == 4) {
            memcpy(out, msg + at, 4);
            return 1;
        }
        at += rdlength;
    }
    return 0;
}

// glibc's resolver pointed at the server through _res.
static int resolve_with_res(struct sockaddr_in server, const char* name, struct in_addr* out) {
    if (res_init() != 0) return 0;
    _res.nsaddr_list[0] = server;
    _res.nscount = 1;
    _res.retrans = 2;
    _res.retry = 2;
    _res.options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
    unsigned char answer[1024];
    int len = res_query(name, ns_c_in, ns_t_a, answer, sizeof answer);
    if (len < 12) return 0;
    return first_a_record(answer, (size_t)len, (uint16_t)(answer[0] << 8 | answer[1]), out);
}

// An A query for `name` as RFC 1035 §4.1 lays it out; returns its length.
static size_t build_query(unsigned char* msg, size_t cap, uint16_t id, const char* name) {
    size_t at = 12;
    memset(msg, 0, 12);
    msg[0] = (unsigned char)(id >> 8), msg[1] = (unsigned char)id;
    msg[2] = 0x01;  // recursion desired
    msg[5] = 1;     // one question
    for (const char* label = name; *label;) {
        const char* dot = strchr(label, '.');
        size_t size = dot ? (size_t)(dot - label) : strlen(label);
        CHECK(size > 0 && size < 64 && at + size + 6 < cap);
        msg[at++] = (unsigned char)size;
        memcpy(msg + at, label, size);
        at += size;
        label += size + (dot ? 1 : 0);
    }
    msg[at++] = 0;
    msg[at++] = 0, msg[at++] = 1;  // type A
    msg[at++] = 0, msg[at++] = 1;  // class IN
    return at;
}

static int resolve_by_hand(struct sockaddr_in server, const char* name, struct in_addr* out) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    uint16_t id = (uint16_t)(getpid() ^ time(NULL));
    unsigned char query[512], answer[1024];
    size_t len = build_query(query, sizeof query, id, name);
    for (int attempt = 0; attempt < 5; ++attempt) {
        CHECK(sendto(fd, query, len, 0, (struct sockaddr*)&server, sizeof server) == (ssize_t)len);
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 2000) != 1) continue;
        struct sockaddr_in from;
        socklen_t from_len = sizeof from;
        ssize_t n = recvfrom(fd, answer, sizeof answer, 0, (struct sockaddr*)&from, &from_len);
        if (n <= 0 || from.sin_port != server.sin_port) continue;
        if (first_a_record(answer, (size_t)n, id, out)) {
            close(fd);
            return 1;
        }
    }
    close(fd);
    return 0;
}

static int run_dns(const char* ns_host, const char* ns_port, const char* name) {
    struct sockaddr_in server = address(ns_host, ns_port);
    struct in_addr result;
    const char* how = "res_query";
    // NET_CLIENT_DNS_BY_HAND=1 skips glibc's resolver (to test the fallback).
    const char* by_hand = getenv("NET_CLIENT_DNS_BY_HAND");
    int forced = by_hand && *by_hand == '1';
    if (forced || !resolve_with_res(server, name, &result)) {
        if (forced) {
            printf("net_client dns: NET_CLIENT_DNS_BY_HAND=1, building the query\n");
        } else {
            printf("net_client dns: glibc's resolver failed (h_errno %d), building the query\n",
                   h_errno);
        }
        how = "hand-built query";
        if (!resolve_by_hand(server, name, &result)) {
            printf("FAILED: no A record for %s from %s:%s\n", name, ns_host, ns_port);
            return 1;
        }
    }
    char text[INET_ADDRSTRLEN];
    CHECK(inet_ntop(AF_INET, &result, text, sizeof text) != NULL);
    printf("net_client dns: answered through %s\n", how);
    printf("net_client dns %s %s\n", name, text);
    return 0;
}

int main(int argc, char** argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    if (argc == 4 && strcmp(argv[1], "tcp") == 0) return run_tcp(argv[2], argv[3]);
    if (argc == 5 && strcmp(argv[1], "dns") == 0) return run_dns(argv[2], argv[3], argv[4]);
    fprintf(stderr, "usage: net_client tcp HOST PORT | net_client dns NSADDR NSPORT NAME\n");
    return 2;
}
