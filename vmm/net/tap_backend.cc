// TUNSETIFF on /dev/net/tun (Documentation/networking/tuntap.rst), then one frame per read and
// per write.
#include "vmm/net/tap_backend.h"
#include "vmm/helper_thread.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace vmm::net {

Expected<std::unique_ptr<TapBackend>> TapBackend::create(const std::string& name) {
    std::string what = "--tap " + name + ": ";
    if (name.empty() || name.size() >= IFNAMSIZ || name.find('/') != std::string::npos)
        return usage_error(what + "not an interface name (1 to 15 characters, no '/')");
    std::unique_ptr<TapBackend> backend(new TapBackend());
    backend->m_fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (backend->m_fd < 0) return system_error(ErrorKind::Usage, what + "cannot open /dev/net/tun");
    ifreq request{};
    std::memcpy(request.ifr_name, name.data(), name.size());
    request.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (ioctl(backend->m_fd, TUNSETIFF, &request) < 0) {
        int error = errno;
        std::string hint = error == EPERM || error == EBUSY
                               ? " (create it first, owned by you: sudo ip tuntap add " + name +
                                     " mode tap user $USER)"
                               : "";
        return usage_error(what + "cannot attach: " + std::strerror(error) + hint);
    }
    backend->m_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (backend->m_wake < 0) return system_error(ErrorKind::VmFailed, "eventfd for the TAP reader");
    TapBackend* raw = backend.get();
    backend->m_thread = start_helper_thread([raw] { raw->read_loop(); });
    return backend;
}

TapBackend::~TapBackend() {
    attach(nullptr);
    if (m_thread.joinable()) {
        uint64_t one = 1;
        (void)!write(m_wake, &one, sizeof(one));
        m_thread.join();
    }
    if (m_wake >= 0) close(m_wake);
    if (m_fd >= 0) close(m_fd);
}

void TapBackend::send_frame(std::span<const std::byte> frame) {
    // Non-blocking: a full interface queue drops the frame, as a busy wire would.
    (void)!write(m_fd, frame.data(), frame.size());
}

void TapBackend::read_loop() {
    std::vector<std::byte> frame(65536);
    for (;;) {
        pollfd fds[2] = {{m_fd, POLLIN, 0}, {m_wake, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[1].revents) return;
        if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) return;  // the interface went away
        for (;;) {
            ssize_t n = read(m_fd, frame.data(), frame.size());
            if (n <= 0) break;  // EAGAIN: drained
            deliver(std::span(frame).first(size_t(n)));
        }
    }
}

}  // namespace vmm::net
