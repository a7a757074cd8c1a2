// The DHCP client (RFC 2131 §4.4): retransmission, binding, renewal, rebinding and expiry.
#include "lib/net/dhcp_client.h"

namespace lib::net {

namespace {
constexpr uint32_t kInfiniteLease = 0xffffffff;
constexpr uint32_t kDefaultLease_s = 3600;  // an ACK without option 51 (RFC 2131 requires it)
constexpr uint32_t kMinLease_s = 10;        // a hostile 1-second lease would be a renew storm
constexpr uint64_t kMinRenewRetry = 60 * DhcpClient::kSecond;  // RFC 2131 §4.4.5

bool usable_address(Ipv4Address a) {
    return !a.is_any() && !a.is_broadcast() && !a.is_multicast() && !a.is_loopback();
}

// The prefix of a contiguous mask; the classful default (RFC 2132 §3.3 leaves it open)
// when the mask is absent or not contiguous.
uint8_t prefix_for(const DhcpMessage& m) {
    if (m.has_subnet_mask) {
        uint32_t mask = m.subnet_mask.value;
        uint8_t ones = 0;
        while (ones < 32 && (mask & (0x80000000u >> ones))) ++ones;
        if (ones > 0 && (ones == 32 || (mask << ones) == 0)) return ones;
    }
    uint32_t top = m.yiaddr.value >> 24;
    return top < 128 ? 8 : top < 192 ? 16 : 24;
}
}  // namespace

void DhcpClient::set_hostname(std::span<const char> name) {
    m_hostname_length = name.size() < sizeof(m_hostname) - 1 ? name.size() : sizeof(m_hostname) - 1;
    for (size_t i = 0; i < m_hostname_length; ++i) m_hostname[i] = name[i];
}

void DhcpClient::start(uint64_t now) {
    m_started = now;
    begin_selecting(now);
}

void DhcpClient::stop() {
    m_state = State::Stopped;
    m_timer = kNoDeadline;
}

// RFC 2131 §4.1: 4 s, then doubling to 64 s, each randomized by ±1 s.
uint64_t DhcpClient::backoff(uint32_t attempt) {
    uint64_t base = (attempt < 4 ? uint64_t{4} << attempt : 64) * kSecond;
    uint64_t jitter = m_env.random_u64() % (2 * kSecond + 1);
    return base - kSecond + jitter;
}

void DhcpClient::begin_selecting(uint64_t now) {
    m_state = State::Selecting;
    m_xid = static_cast<uint32_t>(m_env.random_u64());
    m_attempts = 0;
    m_offered = kAnyAddress;
    m_server = kAnyAddress;
    send_discover(now);
}

void DhcpClient::send_discover(uint64_t now) {
    transmit(DhcpType::Discover, kAnyAddress, kAnyAddress, kAnyAddress, kAnyAddress, now);
    m_timer = now + backoff(m_attempts++);
}

// SELECTING's REQUEST names the offer and its server (RFC 2131 §4.3.2).
void DhcpClient::send_request(uint64_t now) {
    m_request_sent = now;
    transmit(DhcpType::Request, kAnyAddress, m_offered, m_server, kAnyAddress, now);
    m_timer = now + backoff(m_attempts++);
}

void DhcpClient::transmit(DhcpType type, Ipv4Address ciaddr, Ipv4Address requested,
                          Ipv4Address server_id, Ipv4Address destination, uint64_t now) {
    DhcpMessage m;
    m.xid = m_xid;
    uint64_t secs = (now - m_started) / kSecond;
    m.secs = static_cast<uint16_t>(secs > 0xffff ? 0xffff : secs);
    // Without an address the reply cannot be unicast to us (RFC 2131 §4.1).
    m.flags = ciaddr.is_any() ? kDhcpFlagBroadcast : 0;
    m.ciaddr = ciaddr;
    m.chaddr = m_mac;
    m.type = type;
    m.requested = requested;
    m.server_id = server_id;
    uint8_t buffer[kDhcpMaxMessage];
    size_t size = build_dhcp(buffer, m, {m_hostname, m_hostname_length});
    if (size) m_host.dhcp_send({buffer, size}, ciaddr, destination);
}

void DhcpClient::input(std::span<const uint8_t> bytes, uint64_t now) {
    DhcpMessage m;
    if (m_state == State::Stopped || !parse_dhcp(bytes, m)) return;
    if (m.xid != m_xid || m.chaddr != m_mac) return;
    switch (m_state) {
        case State::Selecting: {
            if (m.type != DhcpType::Offer || !usable_address(m.yiaddr)) return;
            Ipv4Address server = m.server_id.is_any() ? m.siaddr : m.server_id;
            if (!usable_address(server)) return;
            m_offered = m.yiaddr;
            m_server = server;
            m_state = State::Requesting;
            m_attempts = 0;
            send_request(now);
            return;
        }
        case State::Requesting:
        case State::Renewing:
        case State::Rebinding:
            if (!m.server_id.is_any() && m_state != State::Rebinding && m.server_id != m_server)
                return;
            if (m.type == DhcpType::Nak) {
                lose(now);
                return;
            }
            if (m.type == DhcpType::Ack && usable_address(m.yiaddr)) bind(m, now);
            return;
        default:
            return;
    }
}

void DhcpClient::bind(const DhcpMessage& ack, uint64_t now) {
    DhcpLease lease;
    lease.config.address = ack.yiaddr;
    lease.config.prefix_length = prefix_for(ack);
    if (usable_address(ack.router)) lease.config.gateway = ack.router;
    for (size_t i = 0; i < 3; ++i) lease.config.dns[i] = ack.dns[i];
    lease.mtu = ack.mtu;
    lease.server = ack.server_id.is_any() ? m_server : ack.server_id;
    uint32_t seconds = ack.lease_s ? ack.lease_s : kDefaultLease_s;
    if (seconds < kMinLease_s) seconds = kMinLease_s;
    lease.lease_s = seconds;
    m_lease = lease;
    m_server = lease.server;
    m_state = State::Bound;
    m_attempts = 0;
    if (seconds == kInfiniteLease) {
        m_timer = kNoDeadline;
    } else {
        // RFC 2131 §4.4.5: T1 = 0.5 and T2 = 0.875 of the lease unless the server says.
        uint64_t length = uint64_t{seconds} * kSecond;
        uint64_t t1 = ack.t1_s ? uint64_t{ack.t1_s} * kSecond : length / 2;
        uint64_t t2 = ack.t2_s ? uint64_t{ack.t2_s} * kSecond : length / 8 * 7;
        if (t2 >= length || t2 == 0) t2 = length / 8 * 7;
        if (t1 >= t2) t1 = t2 / 7 * 4;
        uint64_t start = m_request_sent;
        m_t1 = start + t1;
        m_t2 = start + t2;
        m_expiry = start + length;
        m_timer = m_t1 > now ? m_t1 : now;
    }
    m_host.dhcp_bound(lease);
}

void DhcpClient::lose(uint64_t now) {
    m_lease = DhcpLease{};
    m_host.dhcp_lost();
    m_started = now;
    begin_selecting(now);
}

uint64_t DhcpClient::renewal_retry(uint64_t now, uint64_t limit) const {
    uint64_t wait = limit > now ? (limit - now) / 2 : 0;
    if (wait < kMinRenewRetry) wait = kMinRenewRetry;
    return now + wait < limit ? now + wait : limit;
}

uint64_t DhcpClient::run_timers(uint64_t now) {
    if (m_state == State::Stopped || now < m_timer) return next_deadline();
    switch (m_state) {
        case State::Selecting:
            if (m_attempts >= kDiscoverAttempts)
                begin_selecting(now);
            else
                send_discover(now);
            break;
        case State::Requesting:
            if (m_attempts >= kRequestAttempts)
                begin_selecting(now);
            else
                send_request(now);
            break;
        case State::Bound:
        case State::Renewing:
        case State::Rebinding: {
            if (now >= m_expiry) {
                lose(now);
                break;
            }
            if (now >= m_t2) {
                m_state = State::Rebinding;
                m_request_sent = now;
                transmit(DhcpType::Request, m_lease.config.address, kAnyAddress, kAnyAddress,
                         kAnyAddress, now);
                m_timer = renewal_retry(now, m_expiry);
            } else {
                if (m_state == State::Bound) m_xid = static_cast<uint32_t>(m_env.random_u64());
                m_state = State::Renewing;
                m_request_sent = now;
                transmit(DhcpType::Request, m_lease.config.address, kAnyAddress, kAnyAddress,
                         m_server, now);
                m_timer = renewal_retry(now, m_t2);
            }
            break;
        }
        default:
            break;
    }
    return next_deadline();
}

}  // namespace lib::net
