// x86-64 4-level page tables: mapping, lookup and teardown. Table pages come from the frame
// allocator and are reached through the physmap.
#pragma once

#include <cstdint>

#include "lib/base/result.h"

namespace kernel::mm {

namespace pte {
inline constexpr uint64_t kPresent = 1ull << 0;
inline constexpr uint64_t kWritable = 1ull << 1;
inline constexpr uint64_t kUser = 1ull << 2;
inline constexpr uint64_t kWriteThrough = 1ull << 3;  // PWT
inline constexpr uint64_t kCacheDisable = 1ull << 4;  // PCD; with PWT: PAT entry 3, uncached
inline constexpr uint64_t kAccessed = 1ull << 5;
// Software bit (ignored by the CPU): the frame is borrowed (the page cache's, or the shared
// zero page), not the address space's: never freed by it, copied before it is written.
inline constexpr uint64_t kBorrowed = 1ull << 9;
// Software bit: the mapping holds one counted reference to the frame (mm::share_frame), which
// it releases instead of freeing. With kBorrowed: a file's page, copied before it is written
// (private mappings); without: a shared mapping, written through to the file.
inline constexpr uint64_t kShared = 1ull << 10;
inline constexpr uint64_t kDirty = 1ull << 6;
inline constexpr uint64_t kHuge = 1ull << 7;
inline constexpr uint64_t kGlobal = 1ull << 8;
inline constexpr uint64_t kNoExecute = 1ull << 63;
inline constexpr uint64_t kAddressMask = 0x000f'ffff'ffff'f000;
}  // namespace pte

inline constexpr uint64_t kLargePage = 2ull << 20;
inline constexpr uint64_t kHugePage = 1ull << 30;

class PageTable {
public:
    PageTable() = default;
    explicit PageTable(uint64_t root_phys) : m_root(root_phys) {}

    // A fresh top-level table whose upper (kernel) half is shared with the kernel's.
    static lib::Result<PageTable> create_user();

    uint64_t root() const { return m_root; }
    bool is_active() const;

    // Maps one 4 KiB page. An existing mapping at va is replaced (its frame is not freed).
    lib::ErrorOr map(uint64_t va, uint64_t pa, uint64_t flags);
    // Maps `count` 4 KiB pages from va to the frames from pa on, walking once per table.
    // Existing entries are replaced (their frames are not freed; TLB entries are flushed when
    // this table is active).
    lib::ErrorOr map_pages(uint64_t va, uint64_t pa, uint64_t count, uint64_t flags);
    // Maps [va, va + length) to [pa, ...) with the largest pages alignment allows (for the
    // physmap and MMIO). `allow_1g` when the CPU has 1 GiB pages.
    lib::ErrorOr map_range(uint64_t va, uint64_t pa, uint64_t length, uint64_t flags,
                           bool allow_1g);

    // The 4 KiB leaf entry for va, or nullptr if no table reaches it (or a large page does).
    uint64_t* leaf(uint64_t va) const;

    // Calls fn(va, entry&) for each present 4 KiB leaf in [start, end). fn may change the entry;
    // the TLB entry is flushed after each call when this table is active.
    template <typename Fn>
    void for_each_present(uint64_t start, uint64_t end, Fn&& fn);

    // Frees every table page of the user half (not the frames they map).
    void free_user_tables();

private:
    lib::Result<uint64_t*> walk_create(uint64_t va, int leaf_level, uint64_t table_flags);

    uint64_t m_root = 0;
};

PageTable& kernel_page_table();

// Builds the kernel's final tables (physmap of all RAM, kernel image with W^X, stack region)
// and switches to them.
void init_kernel_page_table();

// Maps device registers [phys, phys + length) uncached (PCD|PWT), writable, never executable,
// into the kernel's MMIO region; returns the virtual address of `phys` (which need not be
// page aligned). Mappings are permanent. NoMem when the region or the frames run out.
lib::Result<uint64_t> map_mmio(uint64_t phys, uint64_t length);
// `pages` pages of kernel virtual address space in the same region (followed by an unmapped
// guard page), for the caller to map: read-only views of page-cache pages, for instance.
lib::Result<uint64_t> reserve_kernel_window(uint64_t pages);

// Implementation detail of for_each_present.
uint64_t* next_present_leaf(uint64_t root, uint64_t& va, uint64_t end);
void flush_tlb_page(uint64_t va);

template <typename Fn>
void PageTable::for_each_present(uint64_t start, uint64_t end, Fn&& fn) {
    uint64_t va = start;
    bool active = is_active();
    while (uint64_t* entry = next_present_leaf(m_root, va, end)) {
        fn(va, *entry);
        if (active) flush_tlb_page(va);
        va += 4096;
    }
}

}  // namespace kernel::mm
