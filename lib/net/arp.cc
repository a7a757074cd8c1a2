// ARP (RFC 826): the cache, resolution with retries and the packet handling.
#include "lib/net/arp.h"

#include <new>

#include "lib/net/bytes.h"

namespace lib::net {

namespace {
constexpr uint16_t kHardwareEthernet = 1;
constexpr uint16_t kOpRequest = 1, kOpReply = 2;

bool usable_sender(Ipv4Address a) {
    return !a.is_any() && !a.is_broadcast() && !a.is_multicast() && !a.is_loopback();
}
}  // namespace

// A frame held while its next hop resolves: a copy, allocated with its bytes behind it.
struct ArpCache::Pending {
    Pending* next;
    TxMeta meta;
    size_t size;
    uint8_t* bytes() { return reinterpret_cast<uint8_t*>(this + 1); }
};

ArpCache::ArpCache(Link& link, uint32_t max_entries, uint32_t max_pending)
    : m_link(link), m_capacity(max_entries ? max_entries : 1), m_max_pending(max_pending) {
    m_entries = new (std::nothrow) Entry[m_capacity];
}

ArpCache::~ArpCache() {
    if (!m_entries) return;
    clear();
    delete[] m_entries;
}

void ArpCache::clear() {
    for (uint32_t i = 0; i < m_high; ++i) release(m_entries[i]);
}

// Scans stop at m_high, the slots ever used: a cache holds a handful of neighbours (the
// gateway), not its capacity. The last hit is tried first (nearly every frame goes to it).
ArpCache::Entry* ArpCache::find(Ipv4Address address) const {
    if (m_last && m_last->state != State::Free && m_last->address == address) return m_last;
    for (uint32_t i = 0; i < m_high; ++i)
        if (m_entries[i].state != State::Free && m_entries[i].address == address)
            return m_last = &m_entries[i];
    return nullptr;
}

// A free entry, or else the least recently used one, evicted.
ArpCache::Entry& ArpCache::allocate(Ipv4Address address) {
    Entry* victim = nullptr;
    for (uint32_t i = 0; i < m_high && !victim; ++i)
        if (m_entries[i].state == State::Free) victim = &m_entries[i];
    if (!victim && m_high < m_capacity) victim = &m_entries[m_high++];
    if (!victim) {
        victim = &m_entries[0];
        for (uint32_t i = 0; i < m_capacity; ++i)
            if (m_entries[i].last_used < victim->last_used) victim = &m_entries[i];
    }
    release(*victim);
    victim->address = address;
    return *victim;
}

void ArpCache::drop_pending(Entry& entry) {
    while (Pending* p = entry.head) {
        entry.head = p->next;
        p->~Pending();
        delete[] reinterpret_cast<uint8_t*>(p);
        ++m_pending_dropped;
    }
    entry.tail = nullptr;
    entry.pending = 0;
}

void ArpCache::release(Entry& entry) {
    drop_pending(entry);
    entry = Entry{};
}

bool ArpCache::hold(Entry& entry, std::span<const uint8_t> frame, const TxMeta& meta) {
    if (m_max_pending == 0) return false;
    // Like Linux's unres_qlen: when the queue is full the oldest frame makes room.
    if (entry.pending >= m_max_pending) {
        Pending* oldest = entry.head;
        entry.head = oldest->next;
        if (!entry.head) entry.tail = nullptr;
        --entry.pending;
        delete[] reinterpret_cast<uint8_t*>(oldest);
        ++m_pending_dropped;
    }
    auto* raw = new (std::nothrow) uint8_t[sizeof(Pending) + frame.size()];
    if (!raw) return false;
    auto* p = new (raw) Pending{nullptr, meta, frame.size()};
    __builtin_memcpy(p->bytes(), frame.data(), frame.size());
    if (entry.tail)
        entry.tail->next = p;
    else
        entry.head = p;
    entry.tail = p;
    ++entry.pending;
    return true;
}

void ArpCache::resolved(Entry& entry, const MacAddress& mac, uint64_t now) {
    entry.mac = mac;
    entry.state = State::Reachable;
    entry.confirmed = now;
    entry.requests = 0;
    while (Pending* p = entry.head) {
        entry.head = p->next;
        for (size_t i = 0; i < 6; ++i) p->bytes()[i] = mac.bytes[i];
        m_link.transmit({p->bytes(), p->size}, p->meta);
        delete[] reinterpret_cast<uint8_t*>(p);
    }
    entry.tail = nullptr;
    entry.pending = 0;
}

ErrorOr ArpCache::output(Ipv4Address next_hop, Ipv4Address self, std::span<uint8_t> frame,
                         const TxMeta& meta, uint64_t now) {
    Entry* entry = find(next_hop);
    if (entry && entry->state == State::Failed && now >= entry->timer) {
        release(*entry);
        entry = nullptr;
    }
    if (!entry) {
        entry = &allocate(next_hop);
        entry->state = State::Incomplete;
        entry->requests = 1;
        entry->timer = now + kRetryNs;
        send(kOpRequest, kBroadcastMac, MacAddress{}, self, next_hop);
    }
    entry->last_used = now;
    switch (entry->state) {
        case State::Failed:
            return Errno::HostUnreach;
        case State::Incomplete:
            if (!hold(*entry, frame, meta)) return Errno::NoBufs;
            return {};
        case State::Reachable:
            if (now - entry->confirmed < kReachableNs) break;
            entry->state = State::Stale;
            [[fallthrough]];
        case State::Stale:
            // RFC 1122 §2.3.2.1: revalidate with a unicast poll, still using the old address.
            entry->state = State::Probe;
            entry->requests = 1;
            entry->timer = now + kRetryNs;
            send(kOpRequest, entry->mac, MacAddress{}, self, next_hop);
            break;
        default:
            break;
    }
    for (size_t i = 0; i < 6; ++i) frame[i] = entry->mac.bytes[i];
    if (!m_link.transmit(frame, meta)) return Errno::NoBufs;
    return {};
}

void ArpCache::input(std::span<const uint8_t> packet, Ipv4Address self, uint64_t now) {
    if (packet.size() < kArpPacketSize) return;
    const uint8_t* p = packet.data();
    if (load_be16(p) != kHardwareEthernet || load_be16(p + 2) != kEtherTypeIpv4 || p[4] != 6 ||
        p[5] != 4)
        return;
    uint16_t op = load_be16(p + 6);
    if (op != kOpRequest && op != kOpReply) return;
    ++m_in;
    MacAddress sender_mac;
    for (size_t i = 0; i < 6; ++i) sender_mac.bytes[i] = p[8 + i];
    Ipv4Address sender{load_be32(p + 14)};
    Ipv4Address target{load_be32(p + 24)};
    if (sender_mac.is_multicast() || sender_mac == m_link.mac) return;
    bool for_us = !self.is_any() && target == self;

    // RFC 826 "Packet Reception": update an existing entry first (the merge flag), then add
    // one only when the packet is addressed to us, so strangers cannot fill the cache.
    bool merged = false;
    if (usable_sender(sender) && sender != self) {
        if (Entry* e = find(sender)) {
            resolved(*e, sender_mac, now);
            merged = true;
        }
        if (for_us && !merged) {
            Entry& e = allocate(sender);
            e.last_used = now;
            resolved(e, sender_mac, now);
        }
    }
    // Answer requests for our address, probes (sender 0.0.0.0, RFC 5227 §2.1.1) included.
    if (for_us && op == kOpRequest && (usable_sender(sender) || sender.is_any()))
        send(kOpReply, sender_mac, sender_mac, self, sender);
}

void ArpCache::announce(Ipv4Address self) {
    send(kOpRequest, kBroadcastMac, MacAddress{}, self, self);
}

void ArpCache::send(uint16_t op, const MacAddress& eth_destination, const MacAddress& target_mac,
                    Ipv4Address sender, Ipv4Address target) {
    uint8_t frame[kEthernetHeaderSize + kArpPacketSize];
    write_ethernet(frame, eth_destination, m_link.mac, kEtherTypeArp);
    uint8_t* p = frame + kEthernetHeaderSize;
    store_be16(p, kHardwareEthernet);
    store_be16(p + 2, kEtherTypeIpv4);
    p[4] = 6;
    p[5] = 4;
    store_be16(p + 6, op);
    for (size_t i = 0; i < 6; ++i) {
        p[8 + i] = m_link.mac.bytes[i];
        p[18 + i] = target_mac.bytes[i];
    }
    store_be32(p + 14, sender.value);
    store_be32(p + 24, target.value);
    ++m_out;
    m_link.transmit(frame, TxMeta{});
}

uint64_t ArpCache::run_timers(uint64_t now, Ipv4Address self) {
    for (uint32_t i = 0; i < m_high; ++i) {
        Entry& e = m_entries[i];
        if ((e.state != State::Incomplete && e.state != State::Probe) || now < e.timer) continue;
        if (e.requests < kMaxRequests) {
            ++e.requests;
            e.timer = now + kRetryNs;
            send(kOpRequest, e.state == State::Probe ? e.mac : kBroadcastMac, MacAddress{}, self,
                 e.address);
            continue;
        }
        // No answer: what waited is dropped and sends fail for a while (RFC 1122 §2.3.2.1).
        drop_pending(e);
        e.state = State::Failed;
        e.timer = now + kFailedHoldNs;
    }
    return next_deadline();
}

uint64_t ArpCache::next_deadline() const {
    uint64_t next = kNoDeadline;
    for (uint32_t i = 0; i < m_high; ++i) {
        const Entry& e = m_entries[i];
        if ((e.state == State::Incomplete || e.state == State::Probe) && e.timer < next)
            next = e.timer;
    }
    return next;
}

std::optional<MacAddress> ArpCache::lookup(Ipv4Address address) const {
    Entry* e = find(address);
    if (!e || e->state == State::Incomplete || e->state == State::Failed) return std::nullopt;
    return e->mac;
}

size_t ArpCache::size() const {
    size_t n = 0;
    for (uint32_t i = 0; i < m_high; ++i) n += m_entries[i].state != State::Free;
    return n;
}

}  // namespace lib::net
