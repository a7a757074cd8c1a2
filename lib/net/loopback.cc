// The loopback queue: a FIFO of packet copies.
#include "lib/net/loopback.h"

#include <new>

namespace lib::net {

LoopbackQueue::~LoopbackQueue() {
    while (!empty()) pop();
}

uint8_t* LoopbackQueue::reserve(size_t size) {
    if (m_packets >= m_max_packets || m_bytes + size > m_max_bytes) return nullptr;
    auto* raw = new (std::nothrow) uint8_t[sizeof(Node) + size];
    if (!raw) return nullptr;
    auto* node = new (raw) Node{nullptr, size};
    (m_tail ? m_tail->next : m_head) = node;
    m_tail = node;
    ++m_packets;
    m_bytes += size;
    return node->bytes();
}

std::span<const uint8_t> LoopbackQueue::front() const {
    if (!m_head) return {};
    return {m_head->bytes(), m_head->size};
}

void LoopbackQueue::pop() {
    Node* node = m_head;
    if (!node) return;
    m_head = node->next;
    if (!m_head) m_tail = nullptr;
    --m_packets;
    m_bytes -= node->size;
    delete[] reinterpret_cast<uint8_t*>(node);
}

}  // namespace lib::net
