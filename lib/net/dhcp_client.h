// The DHCP client state machine (RFC 2131 §4.4, figure 5): INIT -> SELECTING -> REQUESTING ->
// BOUND -> RENEWING (T1, unicast) -> REBINDING (T2, broadcast) -> back to INIT at the lease's
// end or on a NAK. The client only decides; its host sends the messages and applies the lease.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/net/address.h"
#include "lib/net/dhcp_message.h"
#include "lib/net/env.h"
#include "lib/net/stack.h"

namespace lib::net {

struct DhcpLease {
    InterfaceConfig config;
    uint16_t mtu = 0;  // 0: the option was absent
    Ipv4Address server;
    uint32_t lease_s = 0;
};

class DhcpHost {
public:
    // Sends `message` from port 68 to port 67 of `server`, or broadcast when `server` is
    // kAnyAddress; `source` is kAnyAddress until an address is bound.
    virtual void dhcp_send(std::span<const uint8_t> message, Ipv4Address source,
                           Ipv4Address server) = 0;
    virtual void dhcp_bound(const DhcpLease& lease) = 0;  // new or changed lease
    virtual void dhcp_lost() = 0;                         // lease gone: unconfigure

protected:
    ~DhcpHost() = default;
};

class DhcpClient {
public:
    enum class State : uint8_t { Stopped, Selecting, Requesting, Bound, Renewing, Rebinding };
    static constexpr uint32_t kDiscoverAttempts = 5;  // then start over with a new xid
    static constexpr uint32_t kRequestAttempts = 4;   // then back to DISCOVER
    static constexpr uint64_t kSecond = 1'000'000'000;

    DhcpClient(DhcpHost& host, NetEnv& env, MacAddress mac)
        : m_host(host), m_env(env), m_mac(mac) {}

    void start(uint64_t now);
    void stop();
    // A UDP payload that arrived for port 68 (the host checked the UDP header).
    void input(std::span<const uint8_t> bytes, uint64_t now);
    uint64_t run_timers(uint64_t now);
    uint64_t next_deadline() const { return m_state == State::Stopped ? kNoDeadline : m_timer; }

    State state() const { return m_state; }
    const DhcpLease& lease() const { return m_lease; }
    void set_hostname(std::span<const char> name);

private:
    void begin_selecting(uint64_t now);
    void send_discover(uint64_t now);
    void send_request(uint64_t now);
    void bind(const DhcpMessage& ack, uint64_t now);
    void lose(uint64_t now);
    uint64_t backoff(uint32_t attempt);
    uint64_t renewal_retry(uint64_t now, uint64_t limit) const;
    void transmit(DhcpType type, Ipv4Address ciaddr, Ipv4Address requested, Ipv4Address server_id,
                  Ipv4Address destination, uint64_t now);

    DhcpHost& m_host;
    NetEnv& m_env;
    MacAddress m_mac;
    State m_state = State::Stopped;
    uint32_t m_xid = 0;
    uint32_t m_attempts = 0;
    uint64_t m_timer = kNoDeadline;
    uint64_t m_started = 0;       // the acquisition's start (the secs field)
    uint64_t m_request_sent = 0;  // a lease runs from its REQUEST (RFC 2131 §4.4.1)
    Ipv4Address m_offered, m_server;
    DhcpLease m_lease;
    uint64_t m_t1 = 0, m_t2 = 0, m_expiry = 0;
    char m_hostname[64] = {};
    size_t m_hostname_length = 0;
};

}  // namespace lib::net
