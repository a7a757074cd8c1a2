// The Stack: interfaces (loopback and Ethernet), their configuration (static or DHCP), the
// queries transports make (routes, MTU, source addresses) and the timers.
#include "lib/net/stack.h"

#include <new>

#include "lib/net/bytes.h"
#include "lib/net/stack_impl.h"
#include "lib/net/udp.h"

namespace lib::net {

namespace {
const char* const kInterfaceNames[kMaxInterfaces] = {"lo",   "eth0", "eth1", "eth2",
                                                     "eth3", "eth4", "eth5", "eth6"};

uint64_t earliest(uint64_t a, uint64_t b) { return a < b ? a : b; }
}  // namespace

Interface::~Interface() {
    delete arp;
    delete dhcp;
    delete[] scratch;
}

Stack::Impl::Impl(IpOutput& output, NetEnv& env, const StackLimits& limits)
    : ip(output),
      env(env),
      limits(limits),
      reassembler(limits),
      loopback(limits.loopback_queue, kLoopbackMaxBytes),
      icmp(output, transports),
      next_id(static_cast<uint16_t>(env.random_u64())) {}

Stack::Stack(NetEnv& env, StackLimits limits) {
    m_impl = new (std::nothrow) Impl(*this, env, limits);
    // Construction cannot report failure; without memory for its state a stack is unusable
    // and every call below checks nothing, so this is a broken invariant for the host.
    if (!m_impl) __builtin_trap();
    auto* lo = new (std::nothrow) Interface;
    if (!lo) __builtin_trap();
    lo->stack = m_impl;
    lo->loopback = true;
    lo->configured = true;
    lo->config.address = kLoopbackAddress;
    lo->config.prefix_length = 8;
    lo->mtu = kLoopbackMtu;
    m_impl->interfaces[0] = lo;
    m_impl->count = 1;
}

Stack::~Stack() {
    for (size_t i = 0; i < m_impl->count; ++i) delete m_impl->interfaces[i];
    delete m_impl;
}

void Stack::register_transport(uint8_t protocol, Transport& transport) {
    Impl& s = *m_impl;
    Transport* previous = s.transports[protocol];
    s.transports[protocol] = &transport;
    for (size_t i = 0; i < s.registered_count; ++i)
        if (s.registered[i] == previous) {
            s.registered[i] = &transport;
            return;
        }
    if (s.registered_count < sizeof s.registered / sizeof s.registered[0])
        s.registered[s.registered_count++] = &transport;
}

void Stack::register_udp(UdpLayer& udp) {
    register_transport(kProtocolUdp, udp);
    udp.set_unreachable_hook(&Impl::udp_unreachable, m_impl);
}

Result<int> Stack::add_interface(NetDevice& device) {
    Impl& s = *m_impl;
    if (s.count >= kMaxInterfaces) return Errno::NoSpc;
    uint16_t mtu = device.mtu();
    if (mtu < kMinMtu) mtu = kMinMtu;
    auto* ifc = new (std::nothrow) Interface;
    if (!ifc) return Errno::NoMem;
    ifc->stack = m_impl;
    ifc->index = static_cast<int>(s.count);
    ifc->mtu = mtu;
    ifc->link.device = &device;
    ifc->link.mac = device.mac();
    ifc->arp = new (std::nothrow)
        ArpCache(ifc->link, s.limits.arp_entries, s.limits.arp_pending_per_entry);
    ifc->scratch = new (std::nothrow) uint8_t[kEthernetHeaderSize + size_t{mtu}];
    if (!ifc->arp || !ifc->arp->valid() || !ifc->scratch) {
        delete ifc;
        return Errno::NoMem;
    }
    s.interfaces[s.count++] = ifc;
    return ifc->index;
}

void Stack::Impl::apply(Interface& ifc, const InterfaceConfig& config, uint16_t mtu,
                        bool announce) {
    bool changed = !ifc.configured || ifc.config.address != config.address;
    if (changed) ifc.arp->clear();
    ifc.config = config;
    ifc.configured = true;
    uint16_t device_mtu = ifc.link.device->mtu();
    if (device_mtu < kMinMtu) device_mtu = kMinMtu;
    ifc.mtu = mtu >= kMinMtu && mtu < device_mtu ? mtu : device_mtu;
    // RFC 5227 §3: announce a new address so neighbours' caches learn (or relearn) it; a
    // DHCP renewal that keeps the address stays quiet.
    if (changed || announce) ifc.arp->announce(config.address);
}

void Stack::Impl::unconfigure(Interface& ifc) {
    ifc.configured = false;
    ifc.config = InterfaceConfig{};
    ifc.arp->clear();
}

ErrorOr Stack::configure(int interface, const InterfaceConfig& config) {
    if (interface <= 0 || static_cast<size_t>(interface) >= m_impl->count) return Errno::NoDev;
    Ipv4Address a = config.address;
    if (a.is_any() || a.is_broadcast() || a.is_multicast() || a.is_loopback() ||
        config.prefix_length > 32)
        return Errno::Inval;
    Interface& ifc = *m_impl->interfaces[interface];
    if (ifc.dhcp) ifc.dhcp->stop();  // a static address replaces DHCP's
    m_impl->apply(ifc, config, 0, true);
    return {};
}

ErrorOr Stack::start_dhcp(int interface) {
    if (interface <= 0 || static_cast<size_t>(interface) >= m_impl->count) return Errno::NoDev;
    Interface& ifc = *m_impl->interfaces[interface];
    if (!ifc.dhcp) {
        ifc.dhcp = new (std::nothrow) DhcpClient(ifc, m_impl->env, ifc.link.mac);
        if (!ifc.dhcp) return Errno::NoMem;
    }
    ifc.dhcp->set_hostname({m_impl->hostname, m_impl->hostname_length});
    ifc.dhcp->start(m_impl->env.now_ns());
    return {};
}

void Stack::set_hostname(std::span<const char> name) {
    Impl& s = *m_impl;
    s.hostname_length = name.size() < sizeof(s.hostname) - 1 ? name.size() : sizeof(s.hostname) - 1;
    for (size_t i = 0; i < s.hostname_length; ++i) s.hostname[i] = name[i];
    for (size_t i = 1; i < s.count; ++i)
        if (s.interfaces[i]->dhcp) s.interfaces[i]->dhcp->set_hostname(name);
}

bool Stack::configured(int interface) const {
    if (interface < 0 || static_cast<size_t>(interface) >= m_impl->count) return false;
    return m_impl->interfaces[interface]->configured;
}

size_t Stack::interface_count() const { return m_impl->count; }

InterfaceInfo Stack::interface_info(int interface) const {
    InterfaceInfo info{};
    if (interface < 0 || static_cast<size_t>(interface) >= m_impl->count) return info;
    const Interface& ifc = *m_impl->interfaces[interface];
    const LinkCounters& c = ifc.link.counters;
    info.name = kInterfaceNames[interface];
    info.mac = ifc.link.mac;
    info.mtu = ifc.mtu;
    info.up = ifc.up;
    info.configured = ifc.configured;
    info.config = ifc.config;
    info.rx_frames = c.rx_frames, info.tx_frames = c.tx_frames, info.rx_dropped = c.rx_dropped;
    info.tx_dropped = c.tx_dropped, info.rx_bytes = c.rx_bytes, info.tx_bytes = c.tx_bytes;
    return info;
}

Ipv4Address Stack::name_server(size_t index) const {
    for (size_t i = 1; i < m_impl->count; ++i) {
        const Interface& ifc = *m_impl->interfaces[i];
        if (!ifc.configured) continue;
        for (const Ipv4Address& dns : ifc.config.dns) {
            if (dns.is_any()) continue;
            if (index-- == 0) return dns;
        }
    }
    return kAnyAddress;
}

std::optional<Route> Stack::Impl::route(Ipv4Address destination) const {
    RouteCandidate candidates[kMaxInterfaces];
    for (size_t i = 0; i < count; ++i) {
        const Interface& ifc = *interfaces[i];
        candidates[i] = RouteCandidate{ifc.loopback, ifc.up, ifc.configured, ifc.config};
    }
    return select_route(candidates, count, destination);
}

uint16_t Stack::mtu_to(Ipv4Address destination) {
    auto route = m_impl->route(destination);
    if (!route) return 0;
    return route->loopback ? kLoopbackMtu : m_impl->interfaces[route->interface]->mtu;
}

Ipv4Address Stack::source_for(Ipv4Address destination) {
    auto route = m_impl->route(destination);
    return route ? route->source : kAnyAddress;
}

bool Stack::is_local(Ipv4Address address) {
    if (address.is_any() || address.is_loopback()) return true;
    for (size_t i = 1; i < m_impl->count; ++i)
        if (m_impl->interfaces[i]->configured && m_impl->interfaces[i]->config.address == address)
            return true;
    return false;
}

uint64_t Stack::run_timers(uint64_t now) {
    Impl& s = *m_impl;
    flush_loopback();
    for (size_t i = 1; i < s.count; ++i) {
        Interface& ifc = *s.interfaces[i];
        ifc.arp->run_timers(now, ifc.address());
        if (ifc.dhcp) ifc.dhcp->run_timers(now);
    }
    // RFC 1122 §3.3.2: a reassembly timeout sends time exceeded when fragment zero arrived.
    s.reassembler.run_timers(
        now,
        [](std::span<const uint8_t> quote, void* context) {
            auto& impl = *static_cast<Impl*>(context);
            impl.icmp.send_error(kIcmpTimeExceeded, kIcmpCodeReassemblyTimeout, quote, false,
                                 impl.env.now_ns());
        },
        &s);
    for (size_t i = 0; i < s.registered_count; ++i) s.registered[i]->run_timers(now);
    return next_deadline();
}

uint64_t Stack::next_deadline() const {
    const Impl& s = *m_impl;
    if (!s.loopback.empty()) return 0;  // due now: flush_loopback() has work
    uint64_t next = s.reassembler.next_deadline();
    for (size_t i = 1; i < s.count; ++i) {
        const Interface& ifc = *s.interfaces[i];
        next = earliest(next, ifc.arp->next_deadline());
        if (ifc.dhcp) next = earliest(next, ifc.dhcp->next_deadline());
    }
    for (size_t i = 0; i < s.registered_count; ++i)
        next = earliest(next, s.registered[i]->next_deadline());
    return next;
}

const Stack::Stats& Stack::stats() const {
    Impl& s = *m_impl;
    s.stats.ip_reassembly_dropped = s.reassembler.dropped();
    s.stats.icmp_in = s.icmp.messages_in;
    s.stats.icmp_out = s.icmp.messages_out;
    uint64_t arp_in = 0, arp_out = 0;
    for (size_t i = 1; i < s.count; ++i) {
        arp_in += s.interfaces[i]->arp->packets_in();
        arp_out += s.interfaces[i]->arp->packets_out();
    }
    s.stats.arp_in = arp_in;
    s.stats.arp_out = arp_out;
    return s.stats;
}

// DHCP's messages: UDP from port 68 to 67, broadcast out of this interface until bound.
void Interface::dhcp_send(std::span<const uint8_t> message, Ipv4Address source,
                          Ipv4Address server) {
    Ipv4Address destination = server.is_any() ? kBroadcastAddress : server;
    uint16_t length = static_cast<uint16_t>(8 + message.size());
    uint8_t header[8];
    store_be16(header, kDhcpClientPort);
    store_be16(header + 2, kDhcpServerPort);
    store_be16(header + 4, length);
    store_be16(header + 6, checksum_fold(pseudo_header_sum(source.value, destination.value,
                                                           kProtocolUdp, length)));
    OutgoingPacket packet;
    packet.source = source;
    packet.destination = destination;
    packet.protocol = kProtocolUdp;
    packet.header = header;
    packet.payload[0] = message;
    packet.checksum_offset = 6;
    packet.dont_fragment = false;
    Route route{index, destination, source, false, server.is_any()};
    if (!server.is_any()) {
        auto found = stack->route(server);
        if (!found || found->loopback) return;
        route = *found;
    }
    (void)stack->output(packet, route, source);
}

void Interface::dhcp_bound(const DhcpLease& lease) {
    stack->apply(*this, lease.config, lease.mtu, false);
}

void Interface::dhcp_lost() { stack->unconfigure(*this); }

}  // namespace lib::net
