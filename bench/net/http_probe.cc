// The probe uses non-blocking sockets and poll so that a guest that is still booting (the
// TAP device drops what it is sent) costs at most the per-try timeout.
#include "bench/net/http_probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "bench/common/measure.h"

namespace bench::net {

namespace {

// Waits for `events` on fd until the deadline; false on timeout or error.
bool wait_for(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        int left = int(
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
        if (left <= 0) return false;
        pollfd pfd = {fd, events, 0};
        int n = poll(&pfd, 1, left);
        if (n < 0 && errno == EINTR) continue;
        return n == 1 && (pfd.revents & events);
    }
}

}  // namespace

bool http_get_ok(const std::string& host, int port, int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(uint16_t(port));
    if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) return false;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    bool ok = false;
    int result = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    if (result == 0 || (errno == EINPROGRESS && wait_for(fd, POLLOUT, deadline))) {
        int error = 0;
        socklen_t length = sizeof error;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
        std::string request = "GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
        if (error == 0 &&
            send(fd, request.data(), request.size(), MSG_NOSIGNAL) == ssize_t(request.size())) {
            std::string reply;
            char buffer[512];
            while (reply.size() < 12 && wait_for(fd, POLLIN, deadline)) {
                ssize_t n = recv(fd, buffer, sizeof buffer, 0);
                if (n <= 0) break;
                reply.append(buffer, size_t(n));
            }
            ok = reply.rfind("HTTP/1.", 0) == 0 && reply.size() >= 12 &&
                 reply.compare(9, 3, "200") == 0;
        }
    }
    close(fd);
    return ok;
}

ProbeResult wait_until_answering(const std::string& host, int port, int timeout_ms,
                                 const std::function<bool()>& alive) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (Clock::now() < deadline) {
        if (!alive()) return ProbeResult::Exited;
        if (http_get_ok(host, port, 2000)) return ProbeResult::Answered;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return ProbeResult::TimedOut;
}

}  // namespace bench::net
