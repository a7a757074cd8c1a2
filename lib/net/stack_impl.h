// The Stack's private state, shared by stack.cc (interfaces, configuration, timers, DHCP glue),
// stack_input.cc (frames in) and stack_output.cc (packets out). Not part of the API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "lib/net/arp.h"
#include "lib/net/dhcp_client.h"
#include "lib/net/ethernet.h"
#include "lib/net/icmp.h"
#include "lib/net/ipv4.h"
#include "lib/net/loopback.h"
#include "lib/net/reassembly.h"
#include "lib/net/routing.h"
#include "lib/net/stack.h"

namespace lib::net {

inline constexpr size_t kMaxInterfaces = 8;
inline constexpr size_t kMaxTransportHeader = 256;
inline constexpr size_t kLoopbackMaxBytes = size_t{32} << 20;
inline constexpr uint16_t kLoopbackMtu = 65535;
inline constexpr uint16_t kMinMtu = 576;  // RFC 1122 §3.3.3: every host reassembles this
inline constexpr Ipv4Address kAllHostsGroup = Ipv4Address::from(224, 0, 0, 1);

struct Interface final : DhcpHost {
    Stack::Impl* stack = nullptr;
    int index = 0;
    bool loopback = false;
    bool up = true;
    bool configured = false;
    InterfaceConfig config;
    uint16_t mtu = 0;  // the device's, lowered by a DHCP MTU option
    Link link;
    ArpCache* arp = nullptr;
    DhcpClient* dhcp = nullptr;
    uint8_t* scratch = nullptr;  // one frame being built: Ethernet header + mtu bytes

    ~Interface();
    Ipv4Address address() const { return configured ? config.address : kAnyAddress; }
    void dhcp_send(std::span<const uint8_t> message, Ipv4Address source,
                   Ipv4Address server) override;
    void dhcp_bound(const DhcpLease& lease) override;
    void dhcp_lost() override;
};

struct Stack::Impl {
    Impl(IpOutput& output, NetEnv& env, const StackLimits& limits);

    IpOutput& ip;
    NetEnv& env;
    StackLimits limits;
    Interface* interfaces[kMaxInterfaces] = {};
    size_t count = 0;
    Transport* transports[256] = {};
    // The registered ones, compactly: the timer paths visit these, not 256 slots.
    Transport* registered[8] = {};
    size_t registered_count = 0;
    Reassembler reassembler;
    LoopbackQueue loopback;
    Icmp icmp;
    Stats stats{};
    uint16_t next_id;
    bool flushing = false;
    char hostname[64] = {};
    size_t hostname_length = 0;
    // The IPv4 packet being delivered: what an ICMP error from a transport's hook quotes.
    std::span<const uint8_t> current;
    bool current_broadcast = false;

    std::optional<Route> route(Ipv4Address destination) const;
    void apply(Interface& interface, const InterfaceConfig& config, uint16_t mtu, bool announce);
    void unconfigure(Interface& interface);

    // stack_input.cc
    void frame_input(Interface& interface, std::span<const uint8_t> frame, const RxMeta& meta);
    void ip_input(Interface& interface, std::span<const uint8_t> bytes, bool verified);
    void deliver(Interface& interface, const Ipv4Packet& packet, std::span<const uint8_t> whole,
                 bool verified, bool broadcast);
    bool dhcp_input(Interface& interface, const Ipv4Packet& packet, bool verified);
    static void udp_unreachable(const IncomingPacket& packet, void* context);

    // stack_output.cc
    ErrorOr output(const OutgoingPacket& packet, const Route& route, Ipv4Address source);
    ErrorOr link_output(Interface& interface, const Route& route, std::span<uint8_t> frame,
                        const TxMeta& meta);
};

}  // namespace lib::net
