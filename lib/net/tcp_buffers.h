// The byte storage behind a connection: a ring buffer for the send and receive queues (out-of-
// order data is written straight into the receive ring's free space, so reassembly costs no
// memory beyond the receive buffer), and a small fixed set of sequence ranges that records
// which out-of-order bytes are held (receiver) or SACKed (sender's scoreboard, RFC 2018).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace lib::net {

class ByteRing {
public:
    ByteRing() = default;
    ~ByteRing() { release(); }
    ByteRing(const ByteRing&) = delete;
    ByteRing& operator=(const ByteRing&) = delete;

    // Allocates `capacity` bytes (new (std::nothrow)); false when memory ran out.
    bool allocate(uint32_t capacity);
    void release();
    bool allocated() const { return m_data != nullptr; }
    uint32_t capacity() const { return m_capacity; }
    uint32_t size() const { return m_size; }
    uint32_t space() const { return m_capacity - m_size; }

    // Appends what fits; returns how much did.
    uint32_t append(std::span<const uint8_t> data);
    // Writes `data` at `offset` from the head without changing the size (out-of-order data in
    // the free space); the caller keeps offset + size within the capacity.
    void write_at(uint32_t offset, std::span<const uint8_t> data);
    // Counts `n` bytes already written past the end as queued.
    void commit(uint32_t n) { m_size += n; }
    // Copies up to dst.size() queued bytes from `offset` on; returns how many.
    uint32_t copy_out(uint32_t offset, std::span<uint8_t> dst) const;
    void consume(uint32_t n);
    // The queued bytes [offset, offset + length) as up to two contiguous pieces.
    void pieces(uint32_t offset, uint32_t length, std::span<const uint8_t> out[2]) const;

private:
    uint8_t* m_data = nullptr;
    uint32_t m_capacity = 0, m_head = 0, m_size = 0;
};

struct SeqRange {
    uint32_t start = 0, end = 0;  // [start, end) in sequence space
};

// Up to kMax disjoint, sorted, non-adjacent ranges.
class SeqRanges {
public:
    static constexpr size_t kMax = 16;
    // Adds [start, end), merging with neighbours; false when it needed a new slot and none was
    // left (nothing changes then).
    bool add(uint32_t start, uint32_t end);
    // Forgets everything below `seq` (trimming a range that straddles it).
    void remove_below(uint32_t seq);
    void clear() { m_count = 0; }
    size_t count() const { return m_count; }
    bool empty() const { return m_count == 0; }
    const SeqRange& operator[](size_t i) const { return m_ranges[i]; }
    // Whether `seq` lies inside one of the ranges; if so `end` receives that range's end.
    bool contains(uint32_t seq, uint32_t* end = nullptr) const;
    // The index of the range containing `seq`, or count() when none.
    size_t find(uint32_t seq) const;
    // Bytes covered.
    uint32_t total() const;
    void pop_front();

private:
    SeqRange m_ranges[kMax];
    size_t m_count = 0;
};

}  // namespace lib::net
