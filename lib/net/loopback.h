// The loopback interface's queue: whole IPv4 packets sent to this host wait here until
// Stack::flush_loopback() delivers them, so a send never recurses into input (a TCP segment
// answering a segment would otherwise nest without bound). Bounded in packets and bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace lib::net {

class LoopbackQueue {
public:
    LoopbackQueue(uint32_t max_packets, size_t max_bytes)
        : m_max_packets(max_packets), m_max_bytes(max_bytes) {}
    ~LoopbackQueue();
    LoopbackQueue(const LoopbackQueue&) = delete;
    LoopbackQueue& operator=(const LoopbackQueue&) = delete;

    // Room for a packet of `size` bytes: a buffer to fill, or nullptr when full or no memory.
    uint8_t* reserve(size_t size);
    // The oldest packet, valid until pop(); empty when none.
    std::span<const uint8_t> front() const;
    void pop();
    bool empty() const { return m_head == nullptr; }
    size_t packets() const { return m_packets; }

private:
    struct Node {
        Node* next;
        size_t size;
        uint8_t* bytes() { return reinterpret_cast<uint8_t*>(this + 1); }
    };
    Node* m_head = nullptr;
    Node* m_tail = nullptr;
    uint32_t m_max_packets;
    size_t m_max_bytes;
    uint32_t m_packets = 0;
    size_t m_bytes = 0;
};

}  // namespace lib::net
