// The IPv4 stack below the transports: network interfaces (Ethernet devices and loopback),
// ARP, IPv4 with fragment reassembly, ICMP, routing, and the DHCP client that configures an
// interface. Transports (TCP, UDP) register under their protocol numbers and send through the
// IpOutput this class implements. Single-threaded: the kernel calls in with interrupts off.
//
// Every queue an outside host can fill is bounded (ARP cache and its pending packets,
// reassembly buffers, the loopback queue); what does not fit is dropped and counted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/base/result.h"
#include "lib/net/address.h"
#include "lib/net/env.h"
#include "lib/net/ip_output.h"

namespace lib::net {

class UdpLayer;

// What the driver passes with a received frame.
struct RxMeta {
    bool checksum_verified = false;  // VIRTIO_NET_HDR_F_DATA_VALID
};

// What the stack passes with a frame to send: when `checksum_partial`, the 16-bit field at
// `checksum_offset` (from the frame's start) holds a pseudo-header sum and the device must
// finish the sum over the bytes from `checksum_start` to the end (virtio-net's NEEDS_CSUM).
struct TxMeta {
    bool checksum_partial = false;
    uint16_t checksum_start = 0;
    uint16_t checksum_offset = 0;
};

// A network device (the kernel's virtio-net driver, a test's fake).
class NetDevice {
public:
    // Queues one Ethernet frame (header included, no FCS); false when the device's queue is
    // full (the stack drops and counts it). `frame` is only borrowed for the call.
    virtual bool transmit(std::span<const uint8_t> frame, const TxMeta& meta) = 0;
    virtual MacAddress mac() const = 0;
    virtual uint16_t mtu() const = 0;  // the IPv4 packet size the link carries (1500)
    // Whether the device finishes checksums (transmit() may get checksum_partial).
    virtual bool checksum_offload() const = 0;

protected:
    ~NetDevice() = default;
};

struct InterfaceConfig {
    Ipv4Address address;
    uint8_t prefix_length = 0;  // 24 for 255.255.255.0
    Ipv4Address gateway;        // kAnyAddress: none
    Ipv4Address dns[3];         // kAnyAddress entries unused
};

struct InterfaceInfo {
    const char* name;  // "lo", "eth0"
    MacAddress mac;
    uint16_t mtu;
    bool up;
    bool configured;           // has an address (static, or DHCP bound)
    InterfaceConfig config;
    uint64_t rx_frames, tx_frames, rx_dropped, tx_dropped, rx_bytes, tx_bytes;
};

struct StackLimits {
    uint32_t arp_entries = 256;
    uint32_t arp_pending_per_entry = 8;     // packets held while an address resolves
    uint32_t reassembly_datagrams = 64;     // datagrams being reassembled at once
    uint32_t reassembly_bytes = 1u << 20;   // their bytes in all
    uint64_t reassembly_timeout_ns = 30'000'000'000;  // RFC 791's 15-60 s; Linux's 30 s
    uint32_t loopback_queue = 4096;         // packets waiting to loop back
};

class Stack final : public IpOutput {
public:
    Stack(NetEnv& env, StackLimits limits = {});
    ~Stack();
    Stack(const Stack&) = delete;
    Stack& operator=(const Stack&) = delete;

    // Registers `transport` for protocol number `protocol` (kProtocolTcp, kProtocolUdp).
    void register_transport(uint8_t protocol, Transport& transport);
    // Registers `udp` for kProtocolUdp and gives it the hook through which datagrams for
    // unbound ports get ICMP port unreachable.
    void register_udp(UdpLayer& udp);

    // Adds an Ethernet interface ("eth0", "eth1", ... in order); returns its index. The
    // loopback interface "lo" (127.0.0.1/8) always exists as index 0.
    Result<int> add_interface(NetDevice& device);
    // A static address (manifest: IPAddress, NetMask, Gateway, NameServers). Announces it
    // with a gratuitous ARP.
    ErrorOr configure(int interface, const InterfaceConfig& config);
    // Starts the DHCP client (RFC 2131) on the interface: DISCOVER, OFFER, REQUEST, ACK,
    // then renewal at T1 and rebinding at T2, with retransmission backoff.
    ErrorOr start_dhcp(int interface);
    // The host name DHCP requests send (option 12); at most 63 bytes are used.
    void set_hostname(std::span<const char> name);
    bool configured(int interface) const;
    size_t interface_count() const;
    InterfaceInfo interface_info(int interface) const;
    // The name servers learned or configured (for /etc/resolv.conf), kAnyAddress when none.
    Ipv4Address name_server(size_t index) const;

    // A frame from the device of `interface`: parsed, answered (ARP, ICMP echo) and passed up.
    // Any bytes at all are safe here: this is the fuzzed entry point.
    void receive(int interface, std::span<const uint8_t> frame, const RxMeta& meta);
    // Delivers what loopback sends queued (never recursively from inside a send). The kernel
    // calls this after every socket operation and frame input.
    void flush_loopback();
    // Runs every timer due at `now` (ARP, reassembly, DHCP, the transports'); returns the next
    // deadline over all of them.
    uint64_t run_timers(uint64_t now);
    uint64_t next_deadline() const;

    // IpOutput.
    ErrorOr send(const OutgoingPacket& packet) override;
    uint16_t mtu_to(Ipv4Address destination) override;
    Ipv4Address source_for(Ipv4Address destination) override;
    bool is_local(Ipv4Address address) override;

    struct Stats {
        uint64_t ip_in, ip_out, ip_bad, ip_fragments_in, ip_reassembled, ip_reassembly_dropped,
            icmp_in, icmp_out, arp_in, arp_out, no_route, unknown_protocol;
    };
    const Stats& stats() const;

private:
    friend struct Interface;  // stack_impl.h
    struct Impl;
    Impl* m_impl;
};

}  // namespace lib::net
