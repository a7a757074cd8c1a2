// The frame bitmaps: one bit per page for "in use", one for "managed RAM", one for "freed
// once", scanned 64 pages at a time and built a word at a time on first use. Keeping
// "managed" apart is what lets free() catch double frees and stray addresses.
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

}  // namespace

size_t FrameAllocator::words_for(const PageSpan& span) {
    return size_t((span.end - span.first + 63) / 64);
}

size_t FrameAllocator::ready_words_for(size_t words) { return (words + 63) / 64; }

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
    size_t words = words_for(span);
    return (3 * words + ready_words_for(words)) * sizeof(uint64_t);
}

void FrameAllocator::prepare(size_t word) const {
    uint64_t& ready = m_ready[word / 64];
    uint64_t ready_bit = uint64_t(1) << (word % 64);
    if (ready & ready_bit) return;
    uint64_t first = m_first_page + uint64_t(word) * 64;
    uint64_t end = m_end_page - first < 64 ? m_end_page : first + 64;
    uint64_t usable = 0;
    for (size_t i = 0; i < m_region_count; ++i) {
        const PageSpan& region = m_regions[i];
        if (region.end <= first) continue;
        if (region.first >= end) break;  // sorted: nothing further overlaps
        uint64_t from = region.first > first ? region.first : first;
        uint64_t to = region.end < end ? region.end : end;
        usable |= bit_range(unsigned(from - first), unsigned(to - first));
    }
    m_usable[word] = usable;
    m_used[word] = ~usable;  // holes and the tail past m_end_page never look free
    m_freed[word] = 0;
    ready |= ready_bit;
}

template <typename Fn>
void FrameAllocator::for_each_word(uint64_t first, uint64_t end, Fn&& fn) const {
    uint64_t bit = first - m_first_page, end_bit = end - m_first_page;
    while (bit < end_bit) {
        size_t word = size_t(bit / 64);
        unsigned from = unsigned(bit % 64);
        unsigned to = end_bit - word * 64 >= 64 ? 64 : unsigned(end_bit - word * 64);
        prepare(word);
        fn(word, bit_range(from, to));
        bit = uint64_t(word) * 64 + to;
    }
}

ErrorOr FrameAllocator::init(std::span<const PhysRegion> regions, std::span<std::byte> storage,
                             uint64_t floor) {
    PageSpan span;
    if (!managed_span(regions, floor, span)) return Errno::NoMem;
    size_t words = words_for(span);
    size_t ready_words = ready_words_for(words);
    if (storage.size() / sizeof(uint64_t) < 3 * words + ready_words) return Errno::Inval;
    if (reinterpret_cast<uintptr_t>(storage.data()) % alignof(uint64_t) != 0) return Errno::Inval;

    // Clip, sort (insertion: a handful of regions) and merge overlapping or touching spans.
    size_t count = 0;
    for (const PhysRegion& region : regions) {
        PageSpan pages;
        if (!clip_region(region, floor, pages)) continue;
        size_t at = count;
        while (at > 0 && m_regions[at - 1].first > pages.first) --at;
        if (at > 0 && m_regions[at - 1].end >= pages.first) {
            --at;  // joins the span before it
            if (pages.end > m_regions[at].end) m_regions[at].end = pages.end;
        } else if (count == kMaxRegions) {
            return Errno::Inval;
        } else {
            for (size_t i = count; i > at; --i) m_regions[i] = m_regions[i - 1];
            m_regions[at] = pages;
            ++count;
        }
        // The grown span may now reach the ones after it.
        while (at + 1 < count && m_regions[at + 1].first <= m_regions[at].end) {
            if (m_regions[at + 1].end > m_regions[at].end) m_regions[at].end = m_regions[at + 1].end;
            for (size_t i = at + 1; i + 1 < count; ++i) m_regions[i] = m_regions[i + 1];
            --count;
        }
    }
    m_region_count = count;

    // Placement-new starts the words' lifetimes in the caller's raw bytes; only the ready bits
    // need values now.
    auto* raw = reinterpret_cast<uint64_t*>(storage.data());
    m_used = raw;
    m_usable = raw + words;
    m_freed = raw + 2 * words;
    m_ready = raw + 3 * words;
    for (size_t i = 0; i < ready_words; ++i) new (&m_ready[i]) uint64_t(0);
    m_words = words;
    m_first_page = span.first;
    m_end_page = span.end;
    m_hint = 0;
    m_total = 0;
    for (size_t i = 0; i < count; ++i) m_total += m_regions[i].end - m_regions[i].first;
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

Result<uint64_t> FrameAllocator::alloc(bool* pristine) {
    if (m_free == 0) return Errno::NoMem;
    for (size_t word = m_hint; word < m_words; ++word) {
        prepare(word);
        if (m_used[word] == kAllOnes) continue;
        unsigned bit = unsigned(__builtin_ctzll(~m_used[word]));
        uint64_t mask = uint64_t(1) << bit;
        m_used[word] |= mask;
        if (pristine) *pristine = !(m_freed[word] & mask);
        --m_free;
        m_hint = word;
        return (m_first_page + uint64_t(word) * 64 + bit) << kPageShift;
    }
    return Errno::NoMem;  // unreachable while m_free and the bitmap agree
}

uint64_t FrameAllocator::first_with(bool used, uint64_t first, uint64_t end) const {
    uint64_t bit = first - m_first_page, end_bit = end - m_first_page;
    while (bit < end_bit) {
        size_t word = size_t(bit / 64);
        prepare(word);
        uint64_t bits = (used ? m_used[word] : ~m_used[word]) & ~((uint64_t(1) << (bit % 64)) - 1);
        if (bits != 0) {
            uint64_t found = uint64_t(word) * 64 + unsigned(__builtin_ctzll(bits));
            return found < end_bit ? found + m_first_page : end;
        }
        bit = (uint64_t(word) + 1) * 64;
    }
    return end;
}

Result<uint64_t> FrameAllocator::alloc_contiguous(size_t count, size_t align_pages,
                                                  bool* pristine) {
    if (count == 0 || align_pages == 0 || (align_pages & (align_pages - 1)) != 0)
        return Errno::Inval;
    if (count == 1 && align_pages == 1) return alloc(pristine);
    if (count > m_free) return Errno::NoMem;
    // Runs never start below the first word with a free frame.
    auto candidate = align_up(m_first_page + uint64_t(m_hint) * 64, align_pages);
    // Each miss restarts past the used page that broke the run, so the scan stays linear.
    while (candidate && *candidate <= m_end_page && count <= m_end_page - *candidate) {
        uint64_t first = *candidate, end = first + count;
        uint64_t used = first_with(true, first, end);
        if (used == end) {
            bool clean = true;
            for_each_word(first, end, [&](size_t word, uint64_t mask) {
                m_used[word] |= mask;
                clean = clean && !(m_freed[word] & mask);
            });
            if (pristine) *pristine = clean;
            m_free -= count;
            return first << kPageShift;
        }
        // Skip the whole used stretch at once: stepping a page at a time over a reserved
        // block (the kernel image, a boot module) rescanned it hundreds of times.
        uint64_t next_free = first_with(false, used + 1, m_end_page);
        if (next_free == m_end_page) break;
        candidate = align_up(next_free, align_pages);
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
    for_each_word(first, end, [&](size_t word, uint64_t mask) {
        m_used[word] &= ~mask;
        m_freed[word] |= mask;
    });
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
    prepare(size_t(bit / 64));
    if (!(m_usable[bit / 64] & mask)) return FrameState::Unmanaged;
    return m_used[bit / 64] & mask ? FrameState::Allocated : FrameState::Free;
}

}  // namespace lib::vm
