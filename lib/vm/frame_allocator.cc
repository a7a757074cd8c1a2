// The frame bitmap: one bit per page for "in use", one for "managed RAM", scanned 64 pages at
// a time. Keeping "managed" apart is what lets free() catch double frees and stray addresses.
#include "lib/vm/frame_allocator.h"

#include <new>

#include "lib/base/checked.h"

namespace lib::vm {

namespace {

constexpr uint64_t kAllOnes = ~uint64_t(0);

// Bits [from, to) of one word, 0 <= from < to <= 64.
constexpr uint64_t bit_range(unsigned from, unsigned to) {
    uint64_t high = to == 64 ? kAllOnes : (uint64_t(1) << to) - 1;
    return high & ~((uint64_t(1) << from) - 1);
}

uint64_t words_for(uint64_t pages) { return (pages + 63) / 64; }

}  // namespace

bool FrameAllocator::clip_region(const PhysRegion& region, uint64_t floor, PageSpan& out) {
    uint64_t base = region.base > floor ? region.base : floor;
    // A region running past the top of the address space ends at the top.
    uint64_t end = checked_add(region.base, region.length).value_or(kAllOnes);
    auto first = align_up(base, kPageSize);
    if (!first) return false;
    uint64_t last = align_down(end, kPageSize);
    if (*first >= last) return false;
    out = {*first >> kPageShift, last >> kPageShift};
    return true;
}

bool FrameAllocator::managed_span(std::span<const PhysRegion> regions, uint64_t floor,
                                  PageSpan& out) {
    bool any = false;
    for (const PhysRegion& region : regions) {
        PageSpan pages;
        if (!clip_region(region, floor, pages)) continue;
        if (!any || pages.first < out.first) out.first = pages.first;
        if (!any || pages.end > out.end) out.end = pages.end;
        any = true;
    }
    return any;
}

size_t FrameAllocator::storage_bytes_needed(std::span<const PhysRegion> regions, uint64_t floor) {
    PageSpan span;
    if (!managed_span(regions, floor, span)) return 0;
    return size_t(words_for(span.end - span.first) * 2 * sizeof(uint64_t));
}

template <typename Fn>
void FrameAllocator::for_each_word(uint64_t first, uint64_t end, Fn&& fn) {
    uint64_t bit = first - m_first_page, end_bit = end - m_first_page;
    while (bit < end_bit) {
        size_t word = size_t(bit / 64);
        unsigned from = unsigned(bit % 64);
        unsigned to = end_bit - word * 64 >= 64 ? 64 : unsigned(end_bit - word * 64);
        fn(word, bit_range(from, to));
        bit = uint64_t(word) * 64 + to;
    }
}

ErrorOr FrameAllocator::init(std::span<const PhysRegion> regions, std::span<std::byte> storage,
                             uint64_t floor) {
    PageSpan span;
    if (!managed_span(regions, floor, span)) return Errno::NoMem;
    size_t words = size_t(words_for(span.end - span.first));
    if (storage.size() / (2 * sizeof(uint64_t)) < words) return Errno::Inval;
    if (reinterpret_cast<uintptr_t>(storage.data()) % alignof(uint64_t) != 0) return Errno::Inval;

    // Placement-new starts the words' lifetimes in the caller's raw bytes.
    auto* raw = reinterpret_cast<uint64_t*>(storage.data());
    for (size_t i = 0; i < 2 * words; ++i) new (&raw[i]) uint64_t(0);
    m_used = raw;
    m_usable = raw + words;
    m_words = words;
    m_first_page = span.first;
    m_end_page = span.end;
    m_hint = 0;

    for (const PhysRegion& region : regions) {
        PageSpan pages;
        if (!clip_region(region, floor, pages)) continue;
        for_each_word(pages.first, pages.end, [&](size_t word, uint64_t mask) {
            m_usable[word] |= mask;  // overlapping regions simply set the same bits again
        });
    }
    m_total = 0;
    for (size_t i = 0; i < words; ++i) {
        m_used[i] = ~m_usable[i];  // holes and the tail past m_end_page never look free
        m_total += popcount64(m_usable[i]);
    }
    m_free = m_total;
    return {};
}

void FrameAllocator::reserve(uint64_t base, uint64_t length) {
    if (length == 0 || m_words == 0) return;
    uint64_t first = base >> kPageShift;
    uint64_t end_addr = checked_add(base, length).value_or(kAllOnes);
    uint64_t end = (end_addr >> kPageShift) + (is_page_aligned(end_addr) ? 0 : 1);
    if (first < m_first_page) first = m_first_page;
    if (end > m_end_page) end = m_end_page;
    if (first >= end) return;
    for_each_word(first, end, [&](size_t word, uint64_t mask) {
        uint64_t taken = mask & m_usable[word];
        m_free -= popcount64(taken & ~m_used[word]);
        m_total -= popcount64(taken);
        m_used[word] |= mask;
        m_usable[word] &= ~mask;
    });
}

Result<uint64_t> FrameAllocator::alloc() {
    if (m_free == 0) return Errno::NoMem;
    for (size_t word = m_hint; word < m_words; ++word) {
        if (m_used[word] == kAllOnes) continue;
        unsigned bit = unsigned(__builtin_ctzll(~m_used[word]));
        m_used[word] |= uint64_t(1) << bit;
        --m_free;
        m_hint = word;
        return (m_first_page + uint64_t(word) * 64 + bit) << kPageShift;
    }
    return Errno::NoMem;  // unreachable while m_free and the bitmap agree
}

uint64_t FrameAllocator::first_used(uint64_t first, uint64_t end) const {
    uint64_t bit = first - m_first_page, end_bit = end - m_first_page;
    while (bit < end_bit) {
        size_t word = size_t(bit / 64);
        uint64_t bits = m_used[word] & ~((uint64_t(1) << (bit % 64)) - 1);
        if (bits != 0) {
            uint64_t found = uint64_t(word) * 64 + unsigned(__builtin_ctzll(bits));
            return found < end_bit ? found + m_first_page : end;
        }
        bit = (uint64_t(word) + 1) * 64;
    }
    return end;
}

Result<uint64_t> FrameAllocator::alloc_contiguous(size_t count, size_t align_pages) {
    if (count == 0 || align_pages == 0 || (align_pages & (align_pages - 1)) != 0)
        return Errno::Inval;
    if (count == 1 && align_pages == 1) return alloc();
    if (count > m_free) return Errno::NoMem;
    auto candidate = align_up(m_first_page, align_pages);
    // Each miss restarts past the used page that broke the run, so the scan stays linear.
    while (candidate && *candidate <= m_end_page && count <= m_end_page - *candidate) {
        uint64_t first = *candidate, end = first + count;
        uint64_t used = first_used(first, end);
        if (used == end) {
            for_each_word(first, end, [&](size_t word, uint64_t mask) { m_used[word] |= mask; });
            m_free -= count;
            return first << kPageShift;
        }
        candidate = align_up(used + 1, align_pages);
    }
    return Errno::NoMem;
}

ErrorOr FrameAllocator::free_contiguous(uint64_t addr, size_t count) {
    if (!is_page_aligned(addr) || count == 0) return Errno::Inval;
    uint64_t first = addr >> kPageShift;
    if (first < m_first_page || first >= m_end_page || count > m_end_page - first)
        return Errno::Inval;
    uint64_t end = first + count;
    // Check the whole run before touching it, so a bad free changes nothing.
    bool all_allocated = true;
    for_each_word(first, end, [&](size_t word, uint64_t mask) {
        if ((mask & m_usable[word] & m_used[word]) != mask) all_allocated = false;
    });
    if (!all_allocated) return Errno::Inval;
    for_each_word(first, end, [&](size_t word, uint64_t mask) { m_used[word] &= ~mask; });
    m_free += count;
    size_t word = size_t((first - m_first_page) / 64);
    if (word < m_hint) m_hint = word;
    return {};
}

FrameState FrameAllocator::state(uint64_t addr) const {
    uint64_t page = addr >> kPageShift;
    if (page < m_first_page || page >= m_end_page) return FrameState::Unmanaged;
    uint64_t bit = page - m_first_page;
    uint64_t mask = uint64_t(1) << (bit % 64);
    if (!(m_usable[bit / 64] & mask)) return FrameState::Unmanaged;
    return m_used[bit / 64] & mask ? FrameState::Allocated : FrameState::Free;
}

}  // namespace lib::vm
