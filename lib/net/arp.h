// ARP (RFC 826) for one Ethernet link: a bounded cache with LRU eviction, resolution with
// retries, a bounded queue of frames per address being resolved, and answers for our address.
//
// States (after RFC 1122 §2.3.2 and Linux's neighbour table): Incomplete (requests out, frames
// queued), Reachable (confirmed in the last 60 s), Stale (older: still used, but the next send
// starts a Probe, unicast requests to the known MAC), Failed (no answer to 3 requests: sends
// fail with HostUnreach for 20 s).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "lib/base/result.h"
#include "lib/net/ethernet.h"

namespace lib::net {

inline constexpr size_t kArpPacketSize = 28;

class ArpCache {
public:
    static constexpr uint64_t kReachableNs = 60'000'000'000;
    static constexpr uint64_t kRetryNs = 1'000'000'000;
    static constexpr uint32_t kMaxRequests = 3;
    static constexpr uint64_t kFailedHoldNs = 20'000'000'000;

    ArpCache(Link& link, uint32_t max_entries, uint32_t max_pending);
    ~ArpCache();
    ArpCache(const ArpCache&) = delete;
    ArpCache& operator=(const ArpCache&) = delete;
    bool valid() const { return m_entries != nullptr; }  // the entry table was allocated

    // Sends `frame` (an Ethernet frame; its destination MAC is filled in here) to the
    // neighbour `next_hop`, or holds a copy until it resolves. `self` is the interface's
    // address (the requests' sender). Errors: HostUnreach (resolution failed recently),
    // NoBufs (device queue full, or no memory for the copy).
    ErrorOr output(Ipv4Address next_hop, Ipv4Address self, std::span<uint8_t> frame,
                   const TxMeta& meta, uint64_t now);
    // An ARP packet (the Ethernet payload) received; `self` kAnyAddress when unconfigured.
    void input(std::span<const uint8_t> packet, Ipv4Address self, uint64_t now);
    // Gratuitous ARP (RFC 5227 §3 announcement): a broadcast request for our own address.
    void announce(Ipv4Address self);
    // Forgets everything (the interface's address changed).
    void clear();

    uint64_t run_timers(uint64_t now, Ipv4Address self);
    uint64_t next_deadline() const;

    std::optional<MacAddress> lookup(Ipv4Address address) const;  // resolved entries only
    size_t size() const;
    uint64_t packets_in() const { return m_in; }
    uint64_t packets_out() const { return m_out; }
    uint64_t pending_dropped() const { return m_pending_dropped; }

private:
    enum class State : uint8_t { Free, Incomplete, Reachable, Stale, Probe, Failed };
    struct Pending;
    struct Entry {
        Ipv4Address address;
        MacAddress mac;
        State state = State::Free;
        uint8_t requests = 0;
        uint64_t last_used = 0;
        uint64_t timer = 0;  // the next request (Incomplete, Probe), the end of Failed
        uint64_t confirmed = 0;
        Pending* head = nullptr;
        Pending* tail = nullptr;
        uint32_t pending = 0;
    };

    Entry* find(Ipv4Address address) const;
    Entry& allocate(Ipv4Address address);
    void release(Entry& entry);
    void drop_pending(Entry& entry);
    void resolved(Entry& entry, const MacAddress& mac, uint64_t now);
    bool hold(Entry& entry, std::span<const uint8_t> frame, const TxMeta& meta);
    void send(uint16_t op, const MacAddress& eth_destination, const MacAddress& target_mac,
              Ipv4Address sender, Ipv4Address target);

    Link& m_link;
    Entry* m_entries = nullptr;
    uint32_t m_capacity;
    uint32_t m_high = 0;  // slots [0, m_high) have been used; the rest were never touched
    mutable Entry* m_last = nullptr;  // the last entry find() returned
    uint32_t m_max_pending;
    uint64_t m_in = 0, m_out = 0, m_pending_dropped = 0;
};

}  // namespace lib::net
