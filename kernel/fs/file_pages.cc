// FilePages: the radix walk. Tables are zeroed frames (0: nothing below); the walks that free
// stop at the highest index ever allocated, so a small file costs a few steps, not 512^2.
#include "kernel/fs/file_pages.h"

#include "kernel/arch/x86_64/layout.h"
#include "kernel/debug/panic.h"
#include "kernel/mm/frames.h"

namespace kernel::fs {

namespace {

constexpr uint64_t kFanout = 512;
constexpr unsigned kLeafShift = 9, kTopShift = 18;

uint64_t* table(uint64_t phys) { return arch::phys_to_virt<uint64_t>(phys); }

}  // namespace

FilePages::~FilePages() {
    if (m_root) panic("file pages dropped without being freed");
}

uint64_t FilePages::frame(uint64_t index) const {
    if (!m_root || index >= m_end) return 0;
    uint64_t middle = table(m_root)[index >> kTopShift];
    if (!middle) return 0;
    uint64_t leaf = table(middle)[(index >> kLeafShift) % kFanout];
    if (!leaf) return 0;
    return table(leaf)[index % kFanout];
}

lib::Result<uint64_t> FilePages::frame_for_write(uint64_t index, bool whole, PagePool& pool) {
    if (index >= kMaxPages) return lib::Errno::FBig;
    if (!m_root) m_root = TRY(mm::alloc_zeroed_frame());
    uint64_t& middle = table(m_root)[index >> kTopShift];
    if (!middle) middle = TRY(mm::alloc_zeroed_frame());
    uint64_t& leaf = table(middle)[(index >> kLeafShift) % kFanout];
    if (!leaf) leaf = TRY(mm::alloc_zeroed_frame());
    uint64_t& slot = table(leaf)[index % kFanout];
    if (!slot) {
        slot = TRY(pool.alloc_page(!whole));
        ++m_count;
        if (index >= m_end) m_end = index + 1;
    }
    return slot;
}

void FilePages::free_from(uint64_t first, PagePool& pool) {
    if (!m_root) return;
    uint64_t* top = table(m_root);
    for (uint64_t i = first >> kTopShift; i < kFanout && (i << kTopShift) < m_end; ++i) {
        if (!top[i]) continue;
        uint64_t* middle = table(top[i]);
        uint64_t top_base = i << kTopShift;
        uint64_t j = first > top_base ? (first - top_base) >> kLeafShift : 0;
        for (; j < kFanout && top_base + (j << kLeafShift) < m_end; ++j) {
            if (!middle[j]) continue;
            uint64_t* leaf = table(middle[j]);
            uint64_t leaf_base = top_base + (j << kLeafShift);
            uint64_t k = first > leaf_base ? first - leaf_base : 0;
            uint64_t k_end = m_end - leaf_base < kFanout ? m_end - leaf_base : kFanout;
            bool whole_leaf = k == 0;
            for (; k < k_end; ++k) {
                if (!leaf[k]) continue;
                pool.free_page(leaf[k]);
                leaf[k] = 0;
                --m_count;
            }
            if (whole_leaf) {
                mm::free_frame(middle[j]);
                middle[j] = 0;
            }
        }
        if (first <= top_base) {
            mm::free_frame(top[i]);
            top[i] = 0;
        }
    }
    if (first == 0) {
        mm::free_frame(m_root);
        m_root = 0;
        m_end = 0;
    } else if (first < m_end) {
        m_end = first;
    }
}

}  // namespace kernel::fs
