// Fuzzes lib/net's frame input path: the input is a sequence of records, each one frame for
// a Stack with two Ethernet interfaces (eth0 running DHCP, eth1 statically 10.0.3.15/24 with
// a UDP socket bound and a few fragments already pending), and time advancing between frames.
// Record: flags (bit 0: RxMeta::checksum_verified, bit 1: eth1 rather than eth0), time step
// (in 50 ms units), length (16 bits, big-endian), frame bytes. Nothing may crash, leak or
// break a bound; the UDP socket's queue is drained and the loopback flushed as the kernel
// would.
//
// Seeds in fuzz/corpus/net_frame (made by the generator in the commit that added them): an
// ARP request for 10.0.3.15, an ICMP echo, a UDP datagram to the bound port, the first and
// last fragments of a datagram, and DHCP OFFER and ACK frames.
#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/net/stack.h"
#include "lib/net/udp.h"

using namespace lib::net;

namespace {

#define FUZZ_CHECK(condition)               \
    do {                                    \
        if (!(condition)) __builtin_trap(); \
    } while (0)

class Device final : public NetDevice {
public:
    Device(uint8_t last, bool offload) : m_last(last), m_offload(offload) {}
    bool transmit(std::span<const uint8_t> frame, const TxMeta& meta) override {
        FUZZ_CHECK(frame.size() >= 14 && frame.size() <= 14 + 1500u);
        if (meta.checksum_partial) FUZZ_CHECK(meta.checksum_offset + 2u <= frame.size());
        return ++m_sent % 7 != 0;  // now and then the queue is full
    }
    MacAddress mac() const override { return {{0x52, 0x54, 0, 0x12, 0x34, m_last}}; }
    uint16_t mtu() const override { return 1500; }
    bool checksum_offload() const override { return m_offload; }

private:
    uint8_t m_last;
    bool m_offload;
    uint64_t m_sent = 0;
};

class Env final : public NetEnv {
public:
    uint64_t now_ns() override { return now; }
    uint64_t random_u64() override { return state = state * 6364136223846793005ull + 1; }
    uint64_t now = 1'000'000'000'000;
    uint64_t state = 7;
};

// A fragment (offset 0, MF) from 10.0.3.2 so reassembly starts with state to collide with.
void pending_fragment(Stack& stack, int eth, uint16_t id) {
    uint8_t f[14 + 20 + 16] = {0x52, 0x54, 0, 0x12, 0x34, 0x57, 2, 0, 0, 0, 0, 2, 0x08, 0x00};
    uint8_t* ip = f + 14;
    ip[0] = 0x45;
    ip[2] = 0, ip[3] = 36;
    ip[4] = static_cast<uint8_t>(id >> 8), ip[5] = static_cast<uint8_t>(id);
    ip[6] = 0x20;  // MF, offset 0
    ip[8] = 64, ip[9] = 17;
    ip[12] = 10, ip[13] = 0, ip[14] = 3, ip[15] = 2;
    ip[16] = 10, ip[17] = 0, ip[18] = 3, ip[19] = 15;
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2) sum += uint32_t{ip[i]} << 8 | ip[i + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    ip[10] = static_cast<uint8_t>(~sum >> 8), ip[11] = static_cast<uint8_t>(~sum);
    stack.receive(eth, f, {});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Env env;
    StackLimits limits;
    limits.arp_entries = 8;
    limits.reassembly_datagrams = 8;
    limits.reassembly_bytes = 64 * 1024;
    limits.loopback_queue = 64;
    Stack stack(env, limits);
    UdpLayer udp(stack, env);
    stack.register_udp(udp);
    Device dev0(0x56, false), dev1(0x57, size > 0 && (data[0] & 0x80));
    int eth0 = stack.add_interface(dev0).value();
    int eth1 = stack.add_interface(dev1).value();
    FUZZ_CHECK(!stack.start_dhcp(eth0).is_error());
    InterfaceConfig config;
    config.address = Ipv4Address::from(10, 0, 3, 15);
    config.prefix_length = 24;
    config.gateway = Ipv4Address::from(10, 0, 3, 2);
    FUZZ_CHECK(!stack.configure(eth1, config).is_error());
    UdpSocket* socket = udp.create().value();
    FUZZ_CHECK(!socket->bind({kAnyAddress, 5353}).is_error());
    socket->set_receive_buffer(8192);
    for (uint16_t id = 1; id <= 3; ++id) pending_fragment(stack, eth1, id);

    std::span<const uint8_t> input(data, size);
    uint8_t buffer[2048];
    while (input.size() >= 4) {
        uint8_t flags = input[0];
        env.now += uint64_t{input[1]} * 50'000'000;
        size_t length = size_t{input[2]} << 8 | input[3];
        input = input.subspan(4);
        if (length > input.size()) length = input.size();
        stack.receive(flags & 2 ? eth1 : eth0, input.first(length), RxMeta{(flags & 1) != 0});
        input = input.subspan(length);
        stack.flush_loopback();
        if (stack.next_deadline() <= env.now) stack.run_timers(env.now);
        while (true) {
            auto got = socket->receive_from(buffer);
            if (got.is_error()) break;
            FUZZ_CHECK(got.value().copied <= got.value().length);
            // Answer as an echo server would, exercising the output path.
            (void)socket->send_to(std::span(buffer, got.value().copied), got.value().from);
        }
        FUZZ_CHECK(stack.interface_count() == 3);
    }
    // Let every timer run out: ARP retries, reassembly, DHCP backoff.
    for (int i = 0; i < 50 && stack.next_deadline() != kNoDeadline; ++i) {
        uint64_t next = stack.next_deadline();
        env.now = next > env.now ? next : env.now;
        stack.run_timers(env.now);
    }
    socket->close();
    return 0;
}
