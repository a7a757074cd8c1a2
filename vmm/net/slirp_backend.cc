// The libslirp glue: configuration, host forwards, and the poll thread that feeds slirp the
// guest's frames, its sockets' readiness and its timers.
#include "vmm/net/slirp_backend.h"
#include "vmm/helper_thread.h"

#include <arpa/inet.h>
#include <libslirp.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace vmm::net {

struct SlirpBackend::Timer {
    void (*callback)(void*);
    void* opaque;
    int64_t expire_ms = -1;  // -1: not armed
};

namespace {

in_addr ipv4(const char* text) {
    in_addr address{};
    inet_pton(AF_INET, text, &address);
    return address;
}

int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

short to_poll_events(int slirp_events) {
    short events = 0;
    if (slirp_events & SLIRP_POLL_IN) events |= POLLIN;
    if (slirp_events & SLIRP_POLL_OUT) events |= POLLOUT;
    if (slirp_events & SLIRP_POLL_PRI) events |= POLLPRI;
    return events;
}

}  // namespace

SlirpBackend::SlirpBackend() = default;

Expected<std::unique_ptr<SlirpBackend>> SlirpBackend::create(
    const std::vector<PortForward>& forwards) {
    std::unique_ptr<SlirpBackend> backend(new SlirpBackend());
    backend->m_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (backend->m_wake < 0) return system_error(ErrorKind::VmFailed, "eventfd for libslirp");

    SlirpConfig config{};
    config.version = 4;
    config.restricted = 0;
    config.in_enabled = true;
    config.vnetwork = ipv4(kNetwork);
    config.vnetmask = ipv4(kNetmask);
    config.vhost = ipv4(kGateway);
    config.vdhcp_start = ipv4(kGuest);
    config.vnameserver = ipv4(kDns);
    config.in6_enabled = false;
    config.vhostname = "phoenix";
    config.if_mtu = 1500;
    config.if_mru = 1500;
    static const SlirpCb callbacks = {
        .send_packet = on_send_packet,
        .guest_error = on_guest_error,
        .clock_get_ns = on_clock_get_ns,
        .timer_new = on_timer_new,
        .timer_free = on_timer_free,
        .timer_mod = on_timer_mod,
        .register_poll_fd = on_register_poll_fd,
        .unregister_poll_fd = on_unregister_poll_fd,
        .notify = on_notify,
    };
    backend->m_slirp = slirp_new(&config, &callbacks, backend.get());
    if (!backend->m_slirp) return vm_error("libslirp: cannot create the user-mode network");

    for (const PortForward& forward : forwards) {
        errno = 0;
        if (slirp_add_hostfwd(backend->m_slirp, forward.udp, in_addr{INADDR_ANY}, forward.host_port,
                              ipv4(kGuest), forward.guest_port) < 0) {
            const char* why = errno ? std::strerror(errno) : "cannot bind it";
            return usage_error(std::string("cannot forward host ") + (forward.udp ? "UDP" : "TCP") +
                               " port " + std::to_string(forward.host_port) + ": " + why);
        }
    }

    SlirpBackend* raw = backend.get();
    backend->m_thread = start_helper_thread([raw] { raw->poll_loop(); });
    return backend;
}

SlirpBackend::~SlirpBackend() {
    attach(nullptr);
    if (m_thread.joinable()) {
        m_stop = true;
        wake();
        m_thread.join();
    }
    if (m_slirp) slirp_cleanup(m_slirp);  // closes the forwards' sockets
    if (m_wake >= 0) close(m_wake);
}

void SlirpBackend::send_frame(std::span<const std::byte> frame) {
    {
        std::lock_guard lock(m_tx_lock);
        if (m_tx.size() >= kMaxQueuedFrames) return;  // slirp is behind: drop, as a wire would
        m_tx.emplace_back(frame.begin(), frame.end());
    }
    wake();
}

void SlirpBackend::wake() {
    uint64_t one = 1;
    (void)!write(m_wake, &one, sizeof(one));
}

void SlirpBackend::poll_loop() {
    std::deque<std::vector<std::byte>> frames;
    while (!m_stop.load()) {
        m_pollfds.clear();
        m_pollfds.push_back({m_wake, POLLIN, 0});
        uint32_t timeout_ms = 1000;
        int64_t now_ms = now_ns() / 1'000'000;
        for (const auto& timer : m_timers)
            if (timer->expire_ms >= 0)
                timeout_ms =
                    uint32_t(std::clamp<int64_t>(timer->expire_ms - now_ms, 0, timeout_ms));
        slirp_pollfds_fill(m_slirp, &timeout_ms, on_add_poll, this);
        int ready = poll(m_pollfds.data(), m_pollfds.size(), int(timeout_ms));
        if (ready < 0 && errno != EINTR) break;
        if (m_pollfds[0].revents & POLLIN) {
            uint64_t count;
            (void)!read(m_wake, &count, sizeof(count));
        }
        {
            std::lock_guard lock(m_tx_lock);
            frames.swap(m_tx);
        }
        for (const auto& frame : frames)
            slirp_input(m_slirp, reinterpret_cast<const uint8_t*>(frame.data()), int(frame.size()));
        frames.clear();
        slirp_pollfds_poll(m_slirp, ready < 0, on_get_revents, this);
        run_timers();
    }
}

void SlirpBackend::run_timers() {
    // A callback may arm, free or create timers: look again from the start after each one.
    for (bool fired = true; fired;) {
        fired = false;
        int64_t now_ms = now_ns() / 1'000'000;
        for (const auto& timer : m_timers) {
            if (timer->expire_ms < 0 || timer->expire_ms > now_ms) continue;
            timer->expire_ms = -1;
            timer->callback(timer->opaque);
            fired = true;
            break;
        }
    }
}

ssize_t SlirpBackend::on_send_packet(const void* buf, size_t len, void* opaque) {
    static_cast<SlirpBackend*>(opaque)->deliver({static_cast<const std::byte*>(buf), len});
    return ssize_t(len);
}

// The guest sent something slirp refuses; nothing the host's user can act on.
void SlirpBackend::on_guest_error(const char*, void*) {}

int64_t SlirpBackend::on_clock_get_ns(void*) { return now_ns(); }

void* SlirpBackend::on_timer_new(void (*cb)(void*), void* cb_opaque, void* opaque) {
    auto* self = static_cast<SlirpBackend*>(opaque);
    self->m_timers.push_back(std::make_unique<Timer>(Timer{cb, cb_opaque}));
    return self->m_timers.back().get();
}

void SlirpBackend::on_timer_free(void* timer, void* opaque) {
    auto& timers = static_cast<SlirpBackend*>(opaque)->m_timers;
    std::erase_if(timers, [&](const auto& t) { return t.get() == timer; });
}

void SlirpBackend::on_timer_mod(void* timer, int64_t expire_ms, void*) {
    static_cast<Timer*>(timer)->expire_ms = expire_ms;
}

// The poll set is rebuilt on every turn of the loop (slirp_pollfds_fill), so nothing to keep.
void SlirpBackend::on_register_poll_fd(int, void*) {}
void SlirpBackend::on_unregister_poll_fd(int, void*) {}

void SlirpBackend::on_notify(void* opaque) { static_cast<SlirpBackend*>(opaque)->wake(); }

int SlirpBackend::on_add_poll(int fd, int events, void* opaque) {
    auto& fds = static_cast<SlirpBackend*>(opaque)->m_pollfds;
    fds.push_back({fd, to_poll_events(events), 0});
    return int(fds.size() - 1);
}

int SlirpBackend::on_get_revents(int idx, void* opaque) {
    auto& fds = static_cast<SlirpBackend*>(opaque)->m_pollfds;
    if (idx < 0 || size_t(idx) >= fds.size()) return 0;
    short revents = fds[size_t(idx)].revents;
    int events = 0;
    if (revents & POLLIN) events |= SLIRP_POLL_IN;
    if (revents & POLLOUT) events |= SLIRP_POLL_OUT;
    if (revents & POLLPRI) events |= SLIRP_POLL_PRI;
    if (revents & POLLERR) events |= SLIRP_POLL_ERR;
    if (revents & POLLHUP) events |= SLIRP_POLL_HUP;
    return events;
}

}  // namespace vmm::net
