// DHCP message parsing and building.
#include "lib/net/dhcp_message.h"

#include "lib/net/bytes.h"

namespace lib::net {

namespace {
constexpr uint32_t kMagicCookie = 0x63825363;  // RFC 2131 §3: 99.130.83.99
constexpr uint8_t kOptionPad = 0, kOptionEnd = 255, kOptionSubnetMask = 1, kOptionRouter = 3,
                  kOptionDns = 6, kOptionHostname = 12, kOptionMtu = 26, kOptionRequested = 50,
                  kOptionLease = 51, kOptionType = 53, kOptionServerId = 54, kOptionParameters = 55,
                  kOptionMaxSize = 57, kOptionT1 = 58, kOptionT2 = 59;

void parse_option(uint8_t code, std::span<const uint8_t> v, DhcpMessage& m) {
    auto address = [&](size_t i) { return Ipv4Address{load_be32(&v[i])}; };
    switch (code) {
        case kOptionType:
            if (v.size() == 1) m.type = static_cast<DhcpType>(v[0]);
            break;
        case kOptionServerId:
            if (v.size() == 4) m.server_id = address(0);
            break;
        case kOptionSubnetMask:
            if (v.size() == 4) m.subnet_mask = address(0), m.has_subnet_mask = true;
            break;
        case kOptionRouter:
            if (v.size() >= 4 && v.size() % 4 == 0) m.router = address(0);
            break;
        case kOptionDns:
            if (v.size() >= 4 && v.size() % 4 == 0)
                for (size_t i = 0; i < 3 && 4 * i < v.size(); ++i) m.dns[i] = address(4 * i);
            break;
        case kOptionLease:
            if (v.size() == 4) m.lease_s = load_be32(v.data());
            break;
        case kOptionT1:
            if (v.size() == 4) m.t1_s = load_be32(v.data());
            break;
        case kOptionT2:
            if (v.size() == 4) m.t2_s = load_be32(v.data());
            break;
        case kOptionMtu:
            // RFC 2132 §5.1: at least 68.
            if (v.size() == 2 && load_be16(v.data()) >= 68) m.mtu = load_be16(v.data());
            break;
        default:
            break;  // unknown options are skipped (RFC 2131 §2)
    }
}
}  // namespace

bool parse_dhcp(std::span<const uint8_t> bytes, DhcpMessage& m) {
    if (bytes.size() < kDhcpFixedSize + 4) return false;
    const uint8_t* p = bytes.data();
    if (p[1] != 1 || p[2] != 6) return false;  // Ethernet hardware addresses only
    m = DhcpMessage{};
    m.op = p[0];
    m.xid = load_be32(p + 4);
    m.secs = load_be16(p + 8);
    m.flags = load_be16(p + 10);
    m.ciaddr = Ipv4Address{load_be32(p + 12)};
    m.yiaddr = Ipv4Address{load_be32(p + 16)};
    m.siaddr = Ipv4Address{load_be32(p + 20)};
    m.giaddr = Ipv4Address{load_be32(p + 24)};
    for (size_t i = 0; i < 6; ++i) m.chaddr.bytes[i] = p[28 + i];
    if (load_be32(p + kDhcpFixedSize) != kMagicCookie) return false;
    // The options (RFC 2132 §2). Option overload (52) into sname/file is not followed: the
    // servers Phoenix meets (libslirp, dnsmasq, ISC) keep everything in the options field.
    size_t i = kDhcpFixedSize + 4;
    while (i < bytes.size()) {
        uint8_t code = bytes[i++];
        if (code == kOptionPad) continue;
        if (code == kOptionEnd) break;
        if (i >= bytes.size()) return false;
        size_t length = bytes[i++];
        if (length > bytes.size() - i) return false;
        parse_option(code, bytes.subspan(i, length), m);
        i += length;
    }
    return m.op == 2 && m.type != DhcpType::None;
}

size_t build_dhcp(std::span<uint8_t> out, const DhcpMessage& m, std::span<const char> hostname) {
    // Fixed part + cookie + options: type 3, requested 6, server 6, max size 4,
    // parameters 2 + 9, hostname 2 + 63, end 1: under 576 with padding to BOOTP's 300.
    constexpr size_t kMinSize = 300;
    if (out.size() < kDhcpMaxMessage) return 0;
    for (size_t i = 0; i < kDhcpMaxMessage; ++i) out[i] = 0;
    uint8_t* p = out.data();
    p[0] = 1;  // BOOTREQUEST
    p[1] = 1;
    p[2] = 6;
    store_be32(p + 4, m.xid);
    store_be16(p + 8, m.secs);
    store_be16(p + 10, m.flags);
    store_be32(p + 12, m.ciaddr.value);
    for (size_t i = 0; i < 6; ++i) p[28 + i] = m.chaddr.bytes[i];
    store_be32(p + kDhcpFixedSize, kMagicCookie);
    size_t n = kDhcpFixedSize + 4;
    auto option = [&](uint8_t code, uint8_t length) {
        p[n++] = code;
        p[n++] = length;
    };
    option(kOptionType, 1);
    p[n++] = static_cast<uint8_t>(m.type);
    if (!m.requested.is_any()) {
        option(kOptionRequested, 4);
        store_be32(p + n, m.requested.value);
        n += 4;
    }
    if (!m.server_id.is_any()) {
        option(kOptionServerId, 4);
        store_be32(p + n, m.server_id.value);
        n += 4;
    }
    option(kOptionMaxSize, 2);
    store_be16(p + n, kDhcpMaxMessage);
    n += 2;
    constexpr uint8_t kParameters[] = {kOptionSubnetMask, kOptionRouter, kOptionDns,
                                       kOptionHostname,   kOptionMtu,    kOptionLease,
                                       kOptionServerId,   kOptionT1,     kOptionT2};
    option(kOptionParameters, sizeof(kParameters));
    for (uint8_t code : kParameters) p[n++] = code;
    size_t name_length = hostname.size() < 63 ? hostname.size() : 63;
    if (name_length) {
        option(kOptionHostname, static_cast<uint8_t>(name_length));
        for (size_t i = 0; i < name_length; ++i) p[n++] = static_cast<uint8_t>(hostname[i]);
    }
    p[n++] = kOptionEnd;
    return n < kMinSize ? kMinSize : n;
}

}  // namespace lib::net
