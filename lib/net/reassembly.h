// IPv4 fragment reassembly (RFC 791 §3.2, RFC 815) with hard limits: datagrams in progress,
// bytes held over all of them, and a timeout (RFC 1122 §3.3.2). Overlapping fragments drop
// the whole datagram (as RFC 5722 requires for IPv6); exact duplicates are ignored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/net/ipv4.h"
#include "lib/net/stack.h"

namespace lib::net {

class Reassembler {
public:
    explicit Reassembler(const StackLimits& limits);
    ~Reassembler();
    Reassembler(const Reassembler&) = delete;
    Reassembler& operator=(const Reassembler&) = delete;

    // A whole datagram: header (MF and offset cleared, total length fixed) and payload, in
    // memory the caller frees with release().
    struct Datagram {
        uint8_t* bytes = nullptr;
        size_t size = 0;
        size_t header_size = 0;
    };
    enum class Outcome : uint8_t { Held, Complete, Dropped };
    Outcome add(const Ipv4Packet& fragment, uint64_t now, Datagram& out);
    static void release(Datagram& datagram);

    // Drops datagrams past the timeout; for each one whose first fragment arrived,
    // `expired(first fragment's header and up to 8 bytes of payload)` lets the caller send
    // ICMP time exceeded (RFC 792, code 1).
    using ExpiredFn = void (*)(std::span<const uint8_t> quote, void* context);
    void run_timers(uint64_t now, ExpiredFn expired, void* context);
    uint64_t next_deadline() const;

    size_t datagrams() const { return m_count; }
    size_t bytes() const { return m_bytes; }
    uint64_t dropped() const { return m_dropped; }

private:
    struct Fragment;
    struct Entry;
    Entry* find(const Ipv4Packet& fragment) const;
    Entry* create(const Ipv4Packet& fragment, uint64_t now);
    void destroy(Entry* entry);
    bool insert(Entry& entry, const Ipv4Packet& fragment);
    bool complete(const Entry& entry) const;
    bool assemble(Entry& entry, Datagram& out);

    StackLimits m_limits;
    Entry* m_oldest = nullptr;  // a list in arrival order: the head times out first
    Entry* m_newest = nullptr;
    size_t m_count = 0;
    size_t m_bytes = 0;
    uint64_t m_dropped = 0;
};

}  // namespace lib::net
