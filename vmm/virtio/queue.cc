// Device-side split virtqueue: chain walking with every bound checked, used-ring publication
// and interrupt suppression (virtio 1.2, 2.7).
#include "vmm/virtio/queue.h"

#include <algorithm>
#include <atomic>
#include <cstring>

namespace vmm::virtio {

namespace {

using lib::Errno;
using lib::virtio::VirtqDesc;
using lib::virtio::VirtqUsedElem;

constexpr uint64_t kAvailIdxOffset = 2;
constexpr uint64_t kAvailRingOffset = 4;
constexpr uint64_t kUsedIdxOffset = 2;
constexpr uint64_t kUsedRingOffset = 4;

constexpr bool is_power_of_two(uint32_t n) { return n != 0 && (n & (n - 1)) == 0; }

uint64_t sum_lengths(const std::vector<GuestBuffer>& buffers) {
    uint64_t total = 0;
    for (const GuestBuffer& b : buffers) total += b.len;
    return total;
}

// Walks `buffers` skipping `offset` bytes, calling copy(buffer slice, position in the flat
// stream) for each piece until `limit` bytes were visited. Returns the bytes visited.
template <typename Copy>
lib::Result<size_t> for_each_piece(const GuestMemory& memory,
                                   const std::vector<GuestBuffer>& buffers, uint64_t offset,
                                   size_t limit, Copy copy) {
    size_t done = 0;
    for (const GuestBuffer& b : buffers) {
        if (done == limit) break;
        if (offset >= b.len) {
            offset -= b.len;
            continue;
        }
        uint64_t take = std::min<uint64_t>(b.len - offset, limit - done);
        auto bytes = TRY(memory.slice(b.gpa + offset, take));
        copy(bytes, done);
        done += size_t(take);
        offset = 0;
    }
    return done;
}

}  // namespace

uint64_t DescriptorChain::readable_bytes() const { return sum_lengths(readable); }
uint64_t DescriptorChain::writable_bytes() const { return sum_lengths(writable); }

lib::Result<size_t> DescriptorChain::read(const GuestMemory& memory, std::span<std::byte> out,
                                          uint64_t offset) const {
    return for_each_piece(memory, readable, offset, out.size(),
                          [&](std::span<std::byte> piece, size_t at) {
                              if (!piece.empty())
                                  std::memcpy(out.data() + at, piece.data(), piece.size());
                          });
}

lib::Result<size_t> DescriptorChain::write(const GuestMemory& memory, std::span<const std::byte> in,
                                           uint64_t offset) const {
    return for_each_piece(memory, writable, offset, in.size(),
                          [&](std::span<std::byte> piece, size_t at) {
                              if (!piece.empty())
                                  std::memcpy(piece.data(), in.data() + at, piece.size());
                          });
}

Virtqueue::Virtqueue(const GuestMemory& memory, uint16_t max_size)
    : m_memory(&memory), m_max_size(max_size), m_size(max_size) {}

void Virtqueue::set_features(uint64_t features) {
    m_indirect = features & (uint64_t(1) << lib::virtio::kFeatureIndirectDesc);
    m_event_idx = features & (uint64_t(1) << lib::virtio::kFeatureEventIdx);
}

lib::ErrorOr Virtqueue::enable() {
    if (m_ready) return {};
    if (!is_power_of_two(m_size) || m_size > m_max_size || m_size > lib::virtio::kMaxQueueSize)
        return Errno::Inval;
    if (m_desc % lib::virtio::kDescAlign != 0 || m_avail % lib::virtio::kAvailAlign != 0 ||
        m_used % lib::virtio::kUsedAlign != 0)
        return Errno::Inval;
    // The event-index trailers are counted whether or not EVENT_IDX is negotiated: drivers lay
    // the rings out with them anyway, and they are where pop()/needs_interrupt() look.
    TRY(m_memory->slice(m_desc, lib::virtio::desc_table_bytes(m_size)));
    TRY(m_memory->slice(m_avail, lib::virtio::avail_ring_bytes(m_size)));
    TRY(m_memory->slice(m_used, lib::virtio::used_ring_bytes(m_size)));
    m_ready = true;
    m_last_avail = m_next_used = m_signalled_used = 0;
    return {};
}

void Virtqueue::disable() {
    m_ready = false;
    m_last_avail = m_next_used = m_signalled_used = 0;
}

void Virtqueue::reset() {
    disable();
    m_size = m_max_size;
    m_desc = m_avail = m_used = 0;
    m_indirect = m_event_idx = false;
}

lib::Result<uint16_t> Virtqueue::read_avail_idx() const {
    return m_memory->read_obj<uint16_t>(m_avail + kAvailIdxOffset);
}

// avail_event (2.7.10): tells an EVENT_IDX driver to notify once it adds entry m_last_avail.
lib::ErrorOr Virtqueue::publish_avail_event() const {
    uint64_t at = m_used + kUsedRingOffset + uint64_t(m_size) * sizeof(VirtqUsedElem);
    return m_memory->write_obj<uint16_t>(at, m_last_avail);
}

lib::Result<std::optional<DescriptorChain>> Virtqueue::pop() {
    if (!m_ready) return std::optional<DescriptorChain>{};
    uint16_t pending = uint16_t(TRY(read_avail_idx()) - m_last_avail);
    if (pending == 0 && m_event_idx) {
        // Publish where we stopped, then look again: an entry added before the driver saw the
        // new avail_event would otherwise never be notified.
        TRY(publish_avail_event());
        std::atomic_thread_fence(std::memory_order_seq_cst);
        pending = uint16_t(TRY(read_avail_idx()) - m_last_avail);
    }
    if (pending == 0) return std::optional<DescriptorChain>{};
    if (pending > m_size) return Errno::Inval;            // idx ran more than a ring's worth ahead
    std::atomic_thread_fence(std::memory_order_acquire);  // ring entry after idx

    uint64_t slot = m_last_avail & (m_size - 1);
    uint16_t head = TRY(m_memory->read_obj<uint16_t>(m_avail + kAvailRingOffset + slot * 2));
    if (head >= m_size) return Errno::Inval;
    DescriptorChain chain = TRY(walk_chain(head));
    ++m_last_avail;
    return std::optional<DescriptorChain>(std::move(chain));
}

lib::Result<DescriptorChain> Virtqueue::walk_chain(uint16_t head) const {
    DescriptorChain chain;
    chain.head = head;
    uint64_t total = 0;
    uint16_t index = head;
    // 2.7.5.2: a chain is at most the queue size long; longer means a loop.
    for (uint32_t count = 1;; ++count) {
        if (count > m_size) return Errno::Loop;
        auto desc =
            TRY(m_memory->read_obj<VirtqDesc>(m_desc + uint64_t(index) * sizeof(VirtqDesc)));
        if (desc.flags & lib::virtio::kDescIndirect) {
            // 2.7.5.3.1: only with the feature, and never together with NEXT; the device then
            // handles "normal descriptors followed by one indirect one" (2.7.5.3.2).
            if (!m_indirect || (desc.flags & lib::virtio::kDescNext)) return Errno::Inval;
            TRY(walk_indirect(desc, chain, total));
            return chain;
        }
        TRY(add_buffer(desc, chain, total));
        if (!(desc.flags & lib::virtio::kDescNext)) return chain;
        if (desc.next >= m_size) return Errno::Inval;
        index = desc.next;
    }
}

lib::ErrorOr Virtqueue::walk_indirect(const VirtqDesc& table, DescriptorChain& chain,
                                      uint64_t& total) const {
    // 2.7.5.3: a table of len/16 descriptors. We bound it by the queue size, as the chain it
    // replaces would be, and refuse empty or ragged tables.
    if (table.len == 0 || table.len % sizeof(VirtqDesc) != 0) return Errno::Inval;
    uint32_t entries = table.len / sizeof(VirtqDesc);
    if (entries > m_size) return Errno::TooBig;
    TRY(m_memory->slice(table.addr, table.len));  // so addr + i * 16 below cannot wrap
    uint32_t index = 0;
    for (uint32_t count = 1;; ++count) {
        if (count > entries) return Errno::Loop;
        auto desc =
            TRY(m_memory->read_obj<VirtqDesc>(table.addr + uint64_t(index) * sizeof(VirtqDesc)));
        if (desc.flags & lib::virtio::kDescIndirect) return Errno::Inval;  // no nested tables
        TRY(add_buffer(desc, chain, total));
        if (!(desc.flags & lib::virtio::kDescNext)) return {};
        if (desc.next >= entries) return Errno::Inval;
        index = desc.next;
    }
}

lib::ErrorOr Virtqueue::add_buffer(const VirtqDesc& desc, DescriptorChain& chain,
                                   uint64_t& total) const {
    bool writable = desc.flags & lib::virtio::kDescWrite;
    // 2.7.4.2: device-readable descriptors all come before device-writable ones.
    if (!writable && !chain.writable.empty()) return Errno::Inval;
    // 2.7.5.2: a chain is at most 2^32 - 1 bytes in total (used.len must be able to say it).
    total += desc.len;
    if (total > UINT32_MAX) return Errno::Overflow;
    TRY(m_memory->slice(desc.addr, desc.len));
    (writable ? chain.writable : chain.readable).push_back({desc.addr, desc.len});
    return {};
}

lib::ErrorOr Virtqueue::push_used(uint16_t head, uint32_t written) {
    if (!m_ready || head >= m_size) return Errno::Inval;
    uint64_t slot = m_next_used & (m_size - 1);
    uint64_t at = m_used + kUsedRingOffset + slot * sizeof(VirtqUsedElem);
    TRY(m_memory->write_obj(at, VirtqUsedElem{head, written}));
    std::atomic_thread_fence(std::memory_order_release);  // the element before the idx
    ++m_next_used;
    return m_memory->write_obj<uint16_t>(m_used + kUsedIdxOffset, m_next_used);
}

lib::ErrorOr Virtqueue::push_used_all(std::span<const VirtqUsedElem> elems) {
    if (!m_ready) return Errno::Inval;
    for (const VirtqUsedElem& elem : elems)
        if (elem.id >= m_size) return Errno::Inval;
    uint16_t next = m_next_used;
    for (const VirtqUsedElem& elem : elems) {
        uint64_t slot = next & (m_size - 1);
        TRY(m_memory->write_obj(m_used + kUsedRingOffset + slot * sizeof(VirtqUsedElem), elem));
        ++next;
    }
    std::atomic_thread_fence(std::memory_order_release);  // the elements before the idx
    m_next_used = next;
    return m_memory->write_obj<uint16_t>(m_used + kUsedIdxOffset, m_next_used);
}

bool Virtqueue::needs_interrupt() {
    uint16_t old_used = m_signalled_used;
    m_signalled_used = m_next_used;
    if (!m_ready || old_used == m_next_used) return false;
    // Our used idx store must be visible before we read the driver's suppression state.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!m_event_idx) {
        auto flags = m_memory->read_obj<uint16_t>(m_avail);
        return flags.is_error() || !(flags.value() & lib::virtio::kAvailNoInterrupt);
    }
    // 2.7.10: interrupt when used idx moved past used_event since the previous interrupt.
    auto event = m_memory->read_obj<uint16_t>(m_avail + kAvailRingOffset + uint64_t(m_size) * 2);
    if (event.is_error()) return true;
    return uint16_t(m_next_used - event.value() - 1) < uint16_t(m_next_used - old_used);
}

}  // namespace vmm::virtio
