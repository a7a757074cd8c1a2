// Fuzzes lib/net's TCP layer: a layer with a listener on port 80 and an active connection to
// 10.0.0.2:80 takes a stream of records from the input. Each record is one byte of kind, then:
//   0: a segment: 2-byte length, then that many bytes as the TCP segment from 10.0.0.2 (the
//      checksum is fixed up unless the kind's high bit asks to keep it);
//   1: advance the clock by (next 2 bytes) milliseconds and run the timers;
//   2: application calls: send/recv/accept/shutdown/close chosen by the next byte;
//   3: an ICMP error quoting the next 28 bytes.
// Sanitizers catch memory errors; the layer's bounds are checked after every record.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "lib/net/bytes.h"
#include "lib/net/tcp.h"

using namespace lib::net;

namespace {

struct Env final : NetEnv {
    uint64_t now = 1000000000;
    uint64_t seed = 7;
    uint64_t now_ns() override { return now; }
    uint64_t random_u64() override { return seed = seed * 6364136223846793005ull + 1; }
};

struct Ip final : IpOutput {
    size_t sent = 0;
    lib::ErrorOr send(const OutgoingPacket& p) override {
        if (p.header.size() < 20 || p.checksum_offset != 16) abort();
        ++sent;
        return {};
    }
    uint16_t mtu_to(Ipv4Address) override { return 1500; }
    Ipv4Address source_for(Ipv4Address) override { return Ipv4Address::from(10, 0, 0, 1); }
    bool is_local(Ipv4Address a) override {
        return a == Ipv4Address::from(10, 0, 0, 1) || a.is_any();
    }
};

size_t count(const TcpLayer& layer) {
    size_t n = 0;
    layer.for_each_connection(
        [](const TcpLayer::ConnectionInfo&, void* c) { ++*static_cast<size_t*>(c); }, &n);
    return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Env env;
    Ip ip;
    TcpLimits limits;
    limits.max_connections = 64;
    limits.syn_backlog = 8;
    limits.max_time_wait = 8;
    TcpLayer layer(ip, env, limits);
    const Ipv4Address us = Ipv4Address::from(10, 0, 0, 1), peer = Ipv4Address::from(10, 0, 0, 2);
    TcpSocket* listener = layer.create().value();
    (void)listener->bind({kAnyAddress, 80});
    (void)listener->listen(4);
    TcpSocket* client = layer.create().value();
    client->options().receive_buffer = 8192;
    (void)client->connect({peer, 80});
    std::vector<TcpSocket*> owned = {client};
    std::vector<uint8_t> buffer(4096, 0x5a);
    size_t i = 0;
    while (i < size) {
        uint8_t kind = data[i++];
        switch (kind & 3) {
            case 0: {
                if (i + 2 > size) return 0;
                size_t length = load_be16(&data[i]);
                i += 2;
                if (length > size - i) length = size - i;
                std::vector<uint8_t> seg(data + i, data + i + length);
                i += length;
                if (seg.size() >= 20 && !(kind & 0x80)) {
                    store_be16(&seg[16], 0);
                    uint32_t sum =
                        pseudo_header_sum(peer.value, us.value, kProtocolTcp, uint16_t(seg.size()));
                    store_be16(&seg[16], checksum_finish(checksum_add(sum, seg)));
                }
                IncomingPacket p;
                p.source = peer;
                p.destination = us;
                p.protocol = kProtocolTcp;
                p.checksum_verified = kind & 0x40;
                p.payload = seg;
                layer.input(p);
                break;
            }
            case 1: {
                if (i + 2 > size) return 0;
                env.now += uint64_t{load_be16(&data[i])} * 1000000;
                i += 2;
                layer.run_timers(env.now);
                break;
            }
            case 2: {
                if (i >= size || owned.empty()) break;
                uint8_t op = data[i++];
                TcpSocket* s = owned[op % owned.size()];
                switch (op >> 4 & 7) {
                    case 0:
                        (void)s->send(std::span(buffer).first(op * 16 % 4096 + 1));
                        break;
                    case 1:
                        (void)s->recv(buffer, op & 8);
                        break;
                    case 2:
                        if (auto a = listener->accept(); !a.is_error()) owned.push_back(a.value());
                        break;
                    case 3:
                        (void)s->shutdown(op & 1, op & 2);
                        break;
                    case 4:
                        s->close();
                        owned.erase(owned.begin() + static_cast<long>(op % owned.size()));
                        break;
                    case 5:
                        s->options().nodelay = op & 1;
                        s->options().keepalive = op & 2;
                        s->options().keepalive_idle_s = 1;
                        s->options_changed();
                        break;
                    default:
                        (void)s->poll_events();
                        (void)s->take_error();
                        break;
                }
                break;
            }
            case 3: {
                if (i + 28 > size) return 0;
                layer.icmp_error({data + i, 28},
                                 (kind & 4) ? lib::Errno::MsgSize : lib::Errno::ConnRefused,
                                 load_be16(&data[i + 2]));
                i += 28;
                break;
            }
        }
        if (count(layer) > limits.max_connections) abort();
    }
    for (TcpSocket* s : owned) s->close();
    listener->close();
    // With every socket closed, time drains the layer.
    for (int k = 0; k < 64 && layer.next_deadline() != kNoDeadline; ++k) {
        env.now = layer.next_deadline() > env.now ? layer.next_deadline() : env.now;
        layer.run_timers(env.now);
    }
    if (count(layer) != 0) abort();
    return 0;
}
