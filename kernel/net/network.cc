// The kernel's network stack: its environment (clock, CSPRNG), the device glue, the one
// timer that drives every protocol timer, and the boot-time configuration.
#include "kernel/net/network.h"

#include <new>

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/console/log.h"
#include "kernel/debug/panic.h"
#include "kernel/drivers/virtio/net.h"
#include "kernel/random/random.h"
#include "kernel/sched/timer.h"
#include "kernel/time/clock.h"
#include "lib/net/address_text.h"

namespace kernel::net {

namespace {

class KernelEnv final : public lib::net::NetEnv {
public:
    uint64_t now_ns() override { return time::monotonic_ns(); }
    uint64_t random_u64() override { return random::next_u64(); }
};

class Receiver final : public drivers::virtio::NetReceiver {
public:
    void frame_received(std::span<const uint8_t> frame, const lib::net::RxMeta& meta) override;
    void batch_done() override { after_operation(); }
};

// Constructed in init_network (no global constructors for these: order matters).
alignas(lib::net::Stack) unsigned char g_stack_storage[sizeof(lib::net::Stack)];
alignas(lib::net::TcpLayer) unsigned char g_tcp_storage[sizeof(lib::net::TcpLayer)];
alignas(lib::net::UdpLayer) unsigned char g_udp_storage[sizeof(lib::net::UdpLayer)];
lib::net::Stack* g_stack = nullptr;
lib::net::TcpLayer* g_tcp = nullptr;
lib::net::UdpLayer* g_udp = nullptr;
KernelEnv g_env;
Receiver g_receiver;
int g_ethernet = -1;

void timer_fired(sched::Timer&) {
    g_stack->run_timers(time::monotonic_ns());
    after_operation();
}

sched::Timer g_timer{&timer_fired};

void Receiver::frame_received(std::span<const uint8_t> frame, const lib::net::RxMeta& meta) {
    if (g_ethernet >= 0) g_stack->receive(g_ethernet, frame, meta);
}

// A manifest option that must be an address when present; a bad one is ignored, loudly.
std::optional<lib::net::Ipv4Address> address_option(const lib::manifest::Manifest& manifest,
                                                    std::string_view key) {
    std::string_view text;
    if (!manifest.option(key, text)) return std::nullopt;
    auto address = lib::net::parse_ipv4(text);
    if (!address) klog("net: option {}={} is not an IPv4 address, ignored", key, text);
    return address;
}

// The static configuration when the manifest has an address; nullopt for DHCP.
std::optional<lib::net::InterfaceConfig> static_config(const lib::manifest::Manifest& manifest) {
    auto address = address_option(manifest, "ipaddr");
    if (!address) return std::nullopt;
    lib::net::InterfaceConfig config;
    config.address = *address;
    config.prefix_length = 24;
    if (auto mask = address_option(manifest, "netmask")) {
        if (auto prefix = lib::net::netmask_prefix(*mask))
            config.prefix_length = *prefix;
        else
            klog("net: netmask is not contiguous, using /24");
    }
    if (auto gateway = address_option(manifest, "gateway")) config.gateway = *gateway;
    // nameservers: "a,b,c" (the image's /etc/resolv.conf is what programs read; this is
    // for the stack's own bookkeeping).
    std::string_view servers;
    if (manifest.option("nameservers", servers)) {
        size_t count = 0;
        while (!servers.empty() && count < 3) {
            size_t comma = servers.find(',');
            auto server = lib::net::parse_ipv4(servers.substr(0, comma));
            if (server) config.dns[count++] = *server;
            servers =
                comma == std::string_view::npos ? std::string_view{} : servers.substr(comma + 1);
        }
    }
    return config;
}

uint64_t wait_seconds(const lib::manifest::Manifest& manifest) {
    std::string_view text;
    if (!manifest.option("exec_wait_for_ip4_secs", text)) return 2;
    uint64_t seconds = 0;
    for (char c : text) {
        if (c < '0' || c > '9' || seconds > 3600) return 2;
        seconds = seconds * 10 + uint64_t(c - '0');
    }
    return seconds;
}

// Before any thread exists: halts (interrupts on) until the interface has an address or the
// deadline passes. The device's interrupt and the stack's timer do the work meanwhile.
void wait_for_address(uint64_t deadline) {
    sched::Timer alarm([](sched::Timer&) {});
    alarm.arm(deadline);
    while (!g_stack->configured(g_ethernet) && time::monotonic_ns() < deadline) {
        arch::sti();
        asm volatile("hlt");
        arch::cli();
        sched::run_expired_timers();
    }
}

void log_configuration() {
    auto info = g_stack->interface_info(g_ethernet);
    char address[16], gateway[16];
    lib::BufferSink a(address, sizeof address), g(gateway, sizeof gateway);
    lib::net::format_ipv4(a, info.config.address);
    lib::net::format_ipv4(g, info.config.gateway);
    klog("net: {} {}/{} gateway {}", info.name, a.view(), info.config.prefix_length, g.view());
}

}  // namespace

lib::net::Stack& stack() { return *g_stack; }
lib::net::TcpLayer& tcp() { return *g_tcp; }
lib::net::UdpLayer& udp() { return *g_udp; }
int ethernet_interface() { return g_ethernet; }

void after_operation() {
    g_stack->flush_loopback();
    uint64_t next = g_stack->next_deadline();
    if (next == lib::net::kNoDeadline)
        g_timer.cancel();
    else if (!g_timer.armed() || g_timer.deadline() != next)
        g_timer.arm(next);
}

void init_network(const lib::manifest::Manifest& manifest) {
    g_stack = new (g_stack_storage) lib::net::Stack(g_env);
    g_tcp = new (g_tcp_storage) lib::net::TcpLayer(*g_stack, g_env);
    g_udp = new (g_udp_storage) lib::net::UdpLayer(*g_stack, g_env);
    g_stack->register_transport(lib::net::kProtocolTcp, *g_tcp);
    g_stack->register_udp(*g_udp);  // also answers unbound ports with ICMP unreachable

    lib::net::NetDevice* device = drivers::virtio::init_net(g_receiver);
    if (!device) return;  // loopback only
    auto index = g_stack->add_interface(*device);
    if (index.is_error()) {
        klog("net: cannot add the interface: {}", lib::errno_name(index.error()));
        return;
    }
    g_ethernet = index.value();
    if (auto config = static_config(manifest)) {
        if (auto done = g_stack->configure(g_ethernet, *config); done.is_error())
            klog("net: cannot configure the static address: {}", lib::errno_name(done.error()));
        else
            log_configuration();
        after_operation();
        return;
    }
    if (auto started = g_stack->start_dhcp(g_ethernet); started.is_error()) {
        klog("net: cannot start DHCP: {}", lib::errno_name(started.error()));
        return;
    }
    after_operation();
    uint64_t start = time::monotonic_ns();
    wait_for_address(start + wait_seconds(manifest) * 1'000'000'000);
    if (g_stack->configured(g_ethernet))
        log_configuration();
    else
        klog("net: no DHCP lease yet; the program starts, the client keeps trying");
}

}  // namespace kernel::net
