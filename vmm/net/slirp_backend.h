// User-mode networking through libslirp: the guest sees a router at 10.0.2.2 (also the host's
// loopback), a DNS forwarder at 10.0.2.3 and a DHCP server that leases it 10.0.2.15, on
// 10.0.2.0/24; its connections out become ordinary host sockets, and forwarded host ports
// accept connections into the guest. No privileges needed. IPv6 is off.
//
// libslirp is not thread-safe: after create() every call into it happens on the backend's
// poll thread, which also runs slirp's timers. Frames from the guest are queued (bounded) and
// the thread woken through an eventfd.
#pragma once

#include <poll.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "vmm/error.h"
#include "vmm/net/backend.h"
#include "vmm/net/port_forward.h"

struct Slirp;

namespace vmm::net {

class SlirpBackend final : public NetBackend {
public:
    static constexpr const char* kNetwork = "10.0.2.0";
    static constexpr const char* kNetmask = "255.255.255.0";
    static constexpr const char* kGateway = "10.0.2.2";
    static constexpr const char* kDns = "10.0.2.3";
    static constexpr const char* kGuest = "10.0.2.15";
    static constexpr size_t kMaxQueuedFrames = 256;

    // Binds every forward's host port (on all host addresses, as QEMU's hostfwd does) and
    // starts the poll thread. A port that cannot be bound is a Usage error naming it.
    static Expected<std::unique_ptr<SlirpBackend>> create(const std::vector<PortForward>& forwards);
    ~SlirpBackend() override;

    void send_frame(std::span<const std::byte> frame) override;

private:
    struct Timer;
    SlirpBackend();
    void poll_loop();
    void run_timers();
    void wake();

    // libslirp's callbacks (SlirpCb); `opaque` is the backend.
    static ssize_t on_send_packet(const void* buf, size_t len, void* opaque);
    static void on_guest_error(const char* msg, void* opaque);
    static int64_t on_clock_get_ns(void* opaque);
    static void* on_timer_new(void (*cb)(void*), void* cb_opaque, void* opaque);
    static void on_timer_free(void* timer, void* opaque);
    static void on_timer_mod(void* timer, int64_t expire_ms, void* opaque);
    static void on_register_poll_fd(int fd, void* opaque);
    static void on_unregister_poll_fd(int fd, void* opaque);
    static void on_notify(void* opaque);
    static int on_add_poll(int fd, int events, void* opaque);
    static int on_get_revents(int idx, void* opaque);

    Slirp* m_slirp = nullptr;
    int m_wake = -1;  // eventfd: a frame to send, or stop
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
    // The poll thread's own (and slirp_new's, before the thread starts).
    std::vector<std::unique_ptr<Timer>> m_timers;
    std::vector<pollfd> m_pollfds;
    // Frames from the guest, waiting for the poll thread.
    std::mutex m_tx_lock;
    std::deque<std::vector<std::byte>> m_tx;
};

}  // namespace vmm::net
