// The libslirp backend with the real libslirp, driven by hand-built guest frames: DHCP, ARP,
// host port forwards (TCP and UDP) arriving as frames for 10.0.2.15, a forward that outlives
// the NIC it was first attached to (a guest reboot), and a busy host port refused by number.
#include "vmm/net/slirp_backend.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "vmm/net/checksum.h"

namespace {

using Bytes = std::vector<std::byte>;
using vmm::net::PortForward;
using vmm::net::SlirpBackend;

constexpr uint8_t kGuestMac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
constexpr uint8_t kGuestIp[4] = {10, 0, 2, 15};
constexpr uint8_t kGatewayIp[4] = {10, 0, 2, 2};

uint16_t be16(const Bytes& b, size_t at) {
    return uint16_t(uint16_t(b[at]) << 8 | uint16_t(b[at + 1]));
}
void put16(Bytes& b, size_t at, uint16_t v) {
    b[at] = std::byte(v >> 8);
    b[at + 1] = std::byte(v & 0xff);
}
void put(Bytes& b, size_t at, const uint8_t* data, size_t n) {
    for (size_t i = 0; i < n; ++i) b[at + i] = std::byte(data[i]);
}
bool equal(const Bytes& b, size_t at, const uint8_t* data, size_t n) {
    if (b.size() < at + n) return false;
    for (size_t i = 0; i < n; ++i)
        if (b[at + i] != std::byte(data[i])) return false;
    return true;
}

// Frames a NIC would receive, with a wait for the first one a predicate accepts.
class RecordingSink final : public vmm::net::FrameSink {
public:
    void deliver_frame(std::span<const std::byte> frame) override {
        std::lock_guard lock(m_lock);
        m_frames.emplace_back(frame.begin(), frame.end());
        m_arrived.notify_all();
    }
    std::optional<Bytes> wait_for(const std::function<bool(const Bytes&)>& match,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        std::unique_lock lock(m_lock);
        auto deadline = std::chrono::steady_clock::now() + timeout;
        size_t seen = 0;
        for (;;) {
            for (; seen < m_frames.size(); ++seen)
                if (match(m_frames[seen])) return m_frames[seen];
            if (m_arrived.wait_until(lock, deadline) == std::cv_status::timeout)
                return std::nullopt;
        }
    }
    size_t count() {
        std::lock_guard lock(m_lock);
        return m_frames.size();
    }

private:
    std::mutex m_lock;
    std::condition_variable m_arrived;
    std::vector<Bytes> m_frames;
};

Bytes ethernet(const uint8_t* dst, uint16_t type, size_t payload) {
    Bytes f(std::max<size_t>(14 + payload, 60));
    put(f, 0, dst, 6);
    put(f, 6, kGuestMac, 6);
    put16(f, 12, type);
    return f;
}

Bytes arp_request_for_gateway() {
    const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    Bytes f = ethernet(broadcast, 0x0806, 28);
    put16(f, 14, 1);       // Ethernet
    put16(f, 16, 0x0800);  // IPv4
    f[18] = std::byte(6);
    f[19] = std::byte(4);
    put16(f, 20, 1);  // request
    put(f, 22, kGuestMac, 6);
    put(f, 28, kGuestIp, 4);
    put(f, 38, kGatewayIp, 4);
    return f;
}

bool is_arp_reply_from_gateway(const Bytes& f) {
    return f.size() >= 42 && be16(f, 12) == 0x0806 && be16(f, 20) == 2 &&
           equal(f, 28, kGatewayIp, 4) && equal(f, 32, kGuestMac, 6) && equal(f, 0, kGuestMac, 6);
}

// DHCPDISCOVER (RFC 2131) from 0.0.0.0:68 to 255.255.255.255:67, a full 548-byte BOOTP body.
Bytes dhcp_discover() {
    const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    constexpr size_t kBootp = 548;
    Bytes f = ethernet(broadcast, 0x0800, 20 + 8 + kBootp);
    f[14] = std::byte(0x45);
    put16(f, 16, uint16_t(20 + 8 + kBootp));
    f[22] = std::byte(64);
    f[23] = std::byte(17);
    const uint8_t all[4] = {255, 255, 255, 255};
    put(f, 30, all, 4);
    put16(f, 24,
          uint16_t(~vmm::net::checksum_fold(vmm::net::checksum_add(std::span(f).subspan(14, 20)))));
    put16(f, 34, 68);
    put16(f, 36, 67);
    put16(f, 38, uint16_t(8 + kBootp));
    size_t b = 42;
    f[b + 0] = std::byte(1);  // BOOTREQUEST
    f[b + 1] = std::byte(1);
    f[b + 2] = std::byte(6);
    const uint8_t xid[4] = {0xde, 0xad, 0xbe, 0xef};
    put(f, b + 4, xid, 4);
    put(f, b + 28, kGuestMac, 6);
    const uint8_t options[] = {99, 130, 83, 99, 53, 1, 1, 255};  // cookie, DHCPDISCOVER, end
    put(f, b + 236, options, sizeof(options));
    return f;
}

bool is_dhcp_offer_of_guest_ip(const Bytes& f) {
    size_t b = 42;
    if (f.size() < b + 244 || be16(f, 12) != 0x0800 || f[23] != std::byte(17)) return false;
    if (be16(f, 34) != 67 || be16(f, 36) != 68 || f[b] != std::byte(2)) return false;
    if (!equal(f, b + 16, kGuestIp, 4)) return false;  // yiaddr
    for (size_t at = b + 240; at + 2 < f.size() && f[at] != std::byte(255);) {
        if (f[at] == std::byte(0)) {
            ++at;
            continue;
        }
        if (f[at] == std::byte(53)) return f[at + 2] == std::byte(2);  // DHCPOFFER
        at += 2 + size_t(f[at + 1]);
    }
    return false;
}

std::function<bool(const Bytes&)> to_guest(uint8_t protocol, uint16_t port) {
    return [=](const Bytes& f) {
        if (f.size() < 38 || be16(f, 12) != 0x0800 || f[23] != std::byte(protocol)) return false;
        size_t l4 = 14 + (size_t(f[14]) & 0xf) * 4;
        return equal(f, 30, kGuestIp, 4) && f.size() >= l4 + 4 && be16(f, l4 + 2) == port;
    };
}

bool is_syn(const Bytes& f) {
    size_t l4 = 14 + (size_t(f[14]) & 0xf) * 4;
    return f.size() >= l4 + 20 && (uint8_t(f[l4 + 13]) & 0x12) == 0x02;  // SYN without ACK
}

// A port nobody listens on right now (bound to 0, read back, released).
uint16_t free_port(int type) {
    int fd = socket(AF_INET, type, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t length = sizeof(address);
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    close(fd);
    return ntohs(address.sin_port);
}

sockaddr_in loopback(uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

// A non-blocking connect to 127.0.0.1:port; the caller closes the fd.
int connect_to(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in address = loopback(port);
    connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    return fd;
}

struct SlirpTest : ::testing::Test {
    std::unique_ptr<SlirpBackend> make(const std::vector<PortForward>& forwards) {
        auto backend = SlirpBackend::create(forwards);
        EXPECT_FALSE(backend.is_error()) << (backend.is_error() ? backend.error().message() : "");
        return backend.is_error() ? nullptr : std::move(backend.value());
    }
    void learn_guest(SlirpBackend& backend, RecordingSink& sink) {
        backend.send_frame(arp_request_for_gateway());
        ASSERT_TRUE(sink.wait_for(is_arp_reply_from_gateway));
    }
};

TEST_F(SlirpTest, DhcpDiscoverGetsAnOfferOfTheGuestAddress) {
    auto backend = make({});
    ASSERT_TRUE(backend);
    RecordingSink sink;
    backend->attach(&sink);
    backend->send_frame(dhcp_discover());
    EXPECT_TRUE(sink.wait_for(is_dhcp_offer_of_guest_ip));
    backend->attach(nullptr);
}

TEST_F(SlirpTest, ArpRequestForTheGatewayIsAnswered) {
    auto backend = make({});
    ASSERT_TRUE(backend);
    RecordingSink sink;
    backend->attach(&sink);
    learn_guest(*backend, sink);
    backend->attach(nullptr);
}

TEST_F(SlirpTest, HostConnectToAForwardedPortBecomesASynToTheGuest) {
    uint16_t host = free_port(SOCK_STREAM);
    auto backend = make({{false, host, 8080}});
    ASSERT_TRUE(backend);
    RecordingSink sink;
    backend->attach(&sink);
    learn_guest(*backend, sink);
    int fd = connect_to(host);
    auto syn = sink.wait_for([&](const Bytes& f) { return to_guest(6, 8080)(f) && is_syn(f); });
    close(fd);
    EXPECT_TRUE(syn);
    backend->attach(nullptr);
}

TEST_F(SlirpTest, UdpToAForwardedPortBecomesADatagramToTheGuest) {
    uint16_t host = free_port(SOCK_DGRAM);
    auto backend = make({{true, host, 5353}});
    ASSERT_TRUE(backend);
    RecordingSink sink;
    backend->attach(&sink);
    learn_guest(*backend, sink);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address = loopback(host);
    ASSERT_EQ(sendto(fd, "ping", 4, 0, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 4);
    auto datagram = sink.wait_for(to_guest(17, 5353));
    close(fd);

    ASSERT_TRUE(datagram);
    EXPECT_EQ(char(datagram->at(42)), 'p');
    backend->attach(nullptr);
}

// The supervisor's reboot: the same backend, a new VM's NIC attached in place of the old.
TEST_F(SlirpTest, ForwardSurvivesReplacingTheNic) {
    uint16_t host = free_port(SOCK_STREAM);
    auto backend = make({{false, host, 80}});
    ASSERT_TRUE(backend);
    auto first = std::make_unique<RecordingSink>();
    backend->attach(first.get());
    learn_guest(*backend, *first);
    backend->attach(nullptr);  // the old VM stops
    first.reset();             // and is torn down
    RecordingSink second;
    backend->attach(&second);
    learn_guest(*backend, second);
    int fd = connect_to(host);
    auto syn = second.wait_for([&](const Bytes& f) { return to_guest(6, 80)(f) && is_syn(f); });
    close(fd);
    EXPECT_TRUE(syn);
    backend->attach(nullptr);
}

TEST_F(SlirpTest, NothingArrivesWhileDetached) {
    auto backend = make({});
    ASSERT_TRUE(backend);
    RecordingSink sink;
    backend->send_frame(arp_request_for_gateway());  // answered into the void
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    backend->attach(&sink);
    EXPECT_FALSE(sink.wait_for(is_arp_reply_from_gateway, std::chrono::milliseconds(200)));
    backend->attach(nullptr);
}

TEST_F(SlirpTest, BusyHostPortIsAnErrorNamingIt) {
    int busy = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    ASSERT_EQ(bind(busy, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ASSERT_EQ(listen(busy, 1), 0);
    socklen_t length = sizeof(address);
    getsockname(busy, reinterpret_cast<sockaddr*>(&address), &length);
    uint16_t port = ntohs(address.sin_port);
    auto backend = SlirpBackend::create({{false, port, 80}});
    close(busy);
    ASSERT_TRUE(backend.is_error());
    EXPECT_EQ(backend.error().kind, vmm::ErrorKind::Usage);
    EXPECT_EQ(std::string(backend.error().message()),
              "cannot forward host TCP port " + std::to_string(port) + ": Address already in use");
}

}  // namespace
