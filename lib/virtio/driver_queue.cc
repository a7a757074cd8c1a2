// Split virtqueue, driver side: descriptor allocation, publishing chains and taking them back
// from a device that is checked at every step.
#include "lib/virtio/driver_queue.h"

#include <cstring>

#include "lib/base/checked.h"

namespace lib::virtio {

namespace {

constexpr bool is_power_of_two(uint32_t n) { return n != 0 && (n & (n - 1)) == 0; }

struct AreaOffsets {
    size_t avail_offset;
    size_t used_offset;
    size_t total;
};

// size <= kMaxSize, so nothing here can overflow.
AreaOffsets layout_for(uint16_t size, RingLayout layout) {
    size_t avail_offset = desc_table_bytes(size);  // a multiple of 16, so 2-aligned
    size_t used_align = layout == RingLayout::Legacy ? DriverQueue::kLegacyAlign : kUsedAlign;
    size_t used_offset = *align_up(avail_offset + avail_ring_bytes(size), used_align);
    size_t total = used_offset + used_ring_bytes(size);
    if (layout == RingLayout::Legacy) total = *align_up(total, DriverQueue::kLegacyAlign);
    return {avail_offset, used_offset, total};
}

// The device writes the used ring concurrently: read each field exactly once.
template <typename T>
T read_once(const T& field) {
    return __atomic_load_n(&field, __ATOMIC_RELAXED);
}

}  // namespace

size_t DriverQueue::ring_bytes(uint16_t size, RingLayout layout) {
    if (!is_power_of_two(size) || size > kMaxSize) return 0;
    return layout_for(size, layout).total;
}

ErrorOr DriverQueue::init(uint16_t size, std::span<std::byte> ring, const DmaTranslator& dma,
                          RingLayout layout) {
    size_t needed = ring_bytes(size, layout);
    size_t align = layout == RingLayout::Legacy ? kLegacyAlign : kRingAlign;
    if (needed == 0 || ring.size() < needed ||
        !is_aligned(reinterpret_cast<uintptr_t>(ring.data()), align))
        return Errno::Inval;
    uint64_t address = TRY(dma.device_address(ring.data(), needed));
    if (!is_aligned(address, align)) return Errno::Inval;

    AreaOffsets offsets = layout_for(size, layout);
    std::memset(ring.data(), 0, needed);
    m_ring = ring.data();
    m_ring_address = address;
    m_avail_offset = offsets.avail_offset;
    m_used_offset = offsets.used_offset;
    m_dma = &dma;
    m_size = size;
    m_avail_idx = m_last_used = m_unnotified = m_in_flight_count = 0;
    m_broken = false;
    for (uint16_t i = 0; i < size; ++i) {
        m_next[i] = uint16_t(i + 1 < size ? i + 1 : 0);
        m_chain_length[i] = 0;
        m_writable_bytes[i] = 0;
        m_is_head[i] = false;
    }
    m_free_head = 0;
    m_free_count = size;
    return {};
}

VirtqDesc* DriverQueue::descriptors() const { return reinterpret_cast<VirtqDesc*>(m_ring); }
VirtqAvailHeader* DriverQueue::avail() const {
    return reinterpret_cast<VirtqAvailHeader*>(m_ring + m_avail_offset);
}
uint16_t* DriverQueue::avail_ring() const {
    return reinterpret_cast<uint16_t*>(m_ring + m_avail_offset + sizeof(VirtqAvailHeader));
}
VirtqUsedHeader* DriverQueue::used() const {
    return reinterpret_cast<VirtqUsedHeader*>(m_ring + m_used_offset);
}
VirtqUsedElem* DriverQueue::used_ring() const {
    return reinterpret_cast<VirtqUsedElem*>(m_ring + m_used_offset + sizeof(VirtqUsedHeader));
}

Result<uint16_t> DriverQueue::add(std::span<const DriverBuffer> buffers) {
    if (m_broken) return Errno::Io;
    if (m_size == 0 || buffers.empty()) return Errno::Inval;
    if (buffers.size() > m_free_count) return Errno::NoSpc;

    uint32_t writable = 0;
    bool seen_writable = false;
    for (const DriverBuffer& buffer : buffers) {
        if (buffer.length == 0 || (seen_writable && !buffer.device_writable)) return Errno::Inval;
        if (!buffer.device_writable) continue;
        auto sum = checked_add<uint32_t>(writable, buffer.length);
        if (!sum) return Errno::Inval;
        writable = *sum;
        seen_writable = true;
    }

    // Fill free descriptors in free-list order. Nothing is visible to the device, and no
    // bookkeeping changes, until every buffer has been translated.
    uint16_t index = m_free_head;
    uint16_t last = index;
    for (size_t i = 0; i < buffers.size(); ++i) {
        const DriverBuffer& buffer = buffers[i];
        uint64_t address = TRY(m_dma->device_address(buffer.data, buffer.length));
        bool more = i + 1 < buffers.size();
        uint16_t flags =
            uint16_t((buffer.device_writable ? kDescWrite : 0) | (more ? kDescNext : 0));
        descriptors()[index] = {address, buffer.length, flags, uint16_t(more ? m_next[index] : 0)};
        last = index;
        index = m_next[index];
    }

    uint16_t head = m_free_head;
    m_free_head = m_next[last];
    m_free_count = uint16_t(m_free_count - buffers.size());
    m_chain_length[head] = uint16_t(buffers.size());
    m_writable_bytes[head] = writable;
    m_is_head[head] = true;
    ++m_in_flight_count;

    // 2.7.13: the ring entry, then (after a release barrier) the index that publishes it.
    avail_ring()[m_avail_idx & (m_size - 1)] = head;
    ++m_avail_idx;
    __atomic_store_n(&avail()->idx, m_avail_idx, __ATOMIC_RELEASE);
    ++m_unnotified;
    return head;
}

bool DriverQueue::needs_notify() {
    if (m_size == 0 || m_unnotified == 0) return false;
    m_unnotified = 0;
    // 2.7.13.3.1: the new idx must be visible before the device's flags are read.
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return !(read_once(used()->flags) & kUsedNoNotify);
}

void DriverQueue::suppress_interrupts(bool suppress) {
    if (m_size == 0) return;
    __atomic_store_n(&avail()->flags, uint16_t(suppress ? kAvailNoInterrupt : 0), __ATOMIC_RELAXED);
}

Result<std::optional<UsedBuffer>> DriverQueue::device_lied() {
    m_broken = true;
    return Errno::Io;
}

Result<std::optional<UsedBuffer>> DriverQueue::poll_used() {
    if (m_broken) return Errno::Io;
    if (m_size == 0) return std::optional<UsedBuffer>();
    // Acquire: the used element is read only after the index that published it.
    uint16_t used_idx = __atomic_load_n(&used()->idx, __ATOMIC_ACQUIRE);
    uint16_t pending = uint16_t(used_idx - m_last_used);
    if (pending == 0) return std::optional<UsedBuffer>();
    if (pending > m_in_flight_count) return device_lied();  // more returned than given

    const VirtqUsedElem& elem = used_ring()[m_last_used & (m_size - 1)];
    uint32_t id = read_once(elem.id);
    uint32_t length = read_once(elem.len);
    if (id >= m_size || !m_is_head[id]) return device_lied();
    if (length > m_writable_bytes[id]) return device_lied();

    ++m_last_used;
    free_chain(uint16_t(id));
    return std::optional<UsedBuffer>(UsedBuffer{uint16_t(id), length});
}

void DriverQueue::free_chain(uint16_t head) {
    uint16_t last = head;
    for (uint16_t i = 1; i < m_chain_length[head]; ++i) last = m_next[last];
    m_next[last] = m_free_head;
    m_free_head = head;
    m_free_count = uint16_t(m_free_count + m_chain_length[head]);
    m_is_head[head] = false;
    m_chain_length[head] = 0;
    m_writable_bytes[head] = 0;
    --m_in_flight_count;
}

}  // namespace lib::virtio
