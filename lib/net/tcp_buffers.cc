// ByteRing and SeqRanges (tcp_buffers.h).
#include "lib/net/tcp_buffers.h"

#include <new>

#include "lib/net/tcp_seq.h"

namespace lib::net {

bool ByteRing::allocate(uint32_t capacity) {
    release();
    m_data = new (std::nothrow) uint8_t[capacity];
    if (!m_data) return false;
    m_capacity = capacity;
    return true;
}

void ByteRing::release() {
    delete[] m_data;
    m_data = nullptr;
    m_capacity = m_head = m_size = 0;
}

void ByteRing::write_at(uint32_t offset, std::span<const uint8_t> data) {
    uint32_t pos = static_cast<uint32_t>((uint64_t{m_head} + offset) % m_capacity);
    size_t done = 0;
    while (done < data.size()) {
        size_t chunk = m_capacity - pos;
        if (chunk > data.size() - done) chunk = data.size() - done;
        __builtin_memcpy(m_data + pos, data.data() + done, chunk);
        done += chunk;
        pos = 0;
    }
}

uint32_t ByteRing::append(std::span<const uint8_t> data) {
    uint32_t n = data.size() < space() ? static_cast<uint32_t>(data.size()) : space();
    if (n == 0) return 0;
    write_at(m_size, data.first(n));
    m_size += n;
    return n;
}

uint32_t ByteRing::copy_out(uint32_t offset, std::span<uint8_t> dst) const {
    if (offset >= m_size) return 0;
    uint32_t n = m_size - offset;
    if (dst.size() < n) n = static_cast<uint32_t>(dst.size());
    std::span<const uint8_t> parts[2];
    pieces(offset, n, parts);
    size_t at = 0;
    for (auto& part : parts) {
        if (part.empty()) continue;
        __builtin_memcpy(dst.data() + at, part.data(), part.size());
        at += part.size();
    }
    return n;
}

void ByteRing::consume(uint32_t n) {
    if (n > m_size) n = m_size;
    if (n == 0) return;
    // The head moves even when the queue empties: out-of-order bytes beyond the end stay put.
    m_size -= n;
    m_head = static_cast<uint32_t>((uint64_t{m_head} + n) % m_capacity);
}

void ByteRing::pieces(uint32_t offset, uint32_t length, std::span<const uint8_t> out[2]) const {
    out[0] = out[1] = {};
    if (length == 0) return;
    uint32_t pos = static_cast<uint32_t>((uint64_t{m_head} + offset) % m_capacity);
    uint32_t first = m_capacity - pos < length ? m_capacity - pos : length;
    out[0] = {m_data + pos, first};
    if (first < length) out[1] = {m_data, length - first};
}

bool SeqRanges::add(uint32_t start, uint32_t end) {
    if (!seq_lt(start, end)) return true;
    // First range whose end reaches `start` (touching ranges merge).
    size_t i = 0;
    while (i < m_count && seq_lt(m_ranges[i].end, start)) ++i;
    if (i == m_count || seq_lt(end, m_ranges[i].start)) {
        if (m_count == kMax) return false;
        for (size_t j = m_count; j > i; --j) m_ranges[j] = m_ranges[j - 1];
        m_ranges[i] = {start, end};
        ++m_count;
        return true;
    }
    // Overlaps or touches range i: widen it and swallow the following ones it reaches.
    m_ranges[i].start = seq_min(m_ranges[i].start, start);
    m_ranges[i].end = seq_max(m_ranges[i].end, end);
    size_t j = i + 1;
    while (j < m_count && seq_leq(m_ranges[j].start, m_ranges[i].end)) {
        m_ranges[i].end = seq_max(m_ranges[i].end, m_ranges[j].end);
        ++j;
    }
    size_t removed = j - i - 1;
    for (size_t k = i + 1; k + removed < m_count; ++k) m_ranges[k] = m_ranges[k + removed];
    m_count -= removed;
    return true;
}

void SeqRanges::remove_below(uint32_t seq) {
    size_t drop = 0;
    while (drop < m_count && seq_leq(m_ranges[drop].end, seq)) ++drop;
    for (size_t k = 0; k + drop < m_count; ++k) m_ranges[k] = m_ranges[k + drop];
    m_count -= drop;
    if (m_count && seq_lt(m_ranges[0].start, seq)) m_ranges[0].start = seq;
}

size_t SeqRanges::find(uint32_t seq) const {
    for (size_t i = 0; i < m_count; ++i)
        if (seq_in(seq, m_ranges[i].start, m_ranges[i].end)) return i;
    return m_count;
}

bool SeqRanges::contains(uint32_t seq, uint32_t* end) const {
    size_t i = find(seq);
    if (i == m_count) return false;
    if (end) *end = m_ranges[i].end;
    return true;
}

uint32_t SeqRanges::total() const {
    uint32_t sum = 0;
    for (size_t i = 0; i < m_count; ++i) sum += m_ranges[i].end - m_ranges[i].start;
    return sum;
}

void SeqRanges::pop_front() {
    if (m_count == 0) return;
    for (size_t k = 0; k + 1 < m_count; ++k) m_ranges[k] = m_ranges[k + 1];
    --m_count;
}

}  // namespace lib::net
