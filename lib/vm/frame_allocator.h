// Physical page frames: a bitmap allocator over the RAM regions of the boot memory map. It
// allocates nothing itself; the kernel carves the bitmap's storage out of RAM and hands it in.
// The bitmaps are built lazily, 64 pages at a time, when an operation first reaches them: init
// costs O(regions), not O(RAM), which matters where ring-0 instructions are emulated
// (docs/ARCHITECTURE.md, "Known host quirks"). It also remembers which frames were ever freed,
// so a caller that knows RAM started zeroed can skip zeroing pristine frames.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/base/result.h"
#include "lib/vm/page.h"

namespace lib::vm {

// One usable RAM range as the memory map reports it: possibly unaligned, unsorted or
// overlapping another.
struct PhysRegion {
    uint64_t base;
    uint64_t length;
};

enum class FrameState : uint8_t {
    Unmanaged,  // not RAM, below the floor, outside the bitmap, or reserved
    Free,
    Allocated,
};

class FrameAllocator {
public:
    // Physical page 0 is never handed out by default, so that 0 can never be a valid frame.
    static constexpr uint64_t kDefaultFloor = kPageSize;

    // At most this many RAM regions (after merging overlaps) are accepted by init().
    static constexpr size_t kMaxRegions = 64;

    // Bytes of storage init() needs for these regions: three bitmaps over [lowest managed
    // page, highest managed page) and one bit per bitmap word. The storage must be 8-byte
    // aligned; its contents do not matter.
    static size_t storage_bytes_needed(std::span<const PhysRegion> regions,
                                       uint64_t floor = kDefaultFloor);

    // Manages the whole 4 KiB pages inside the regions at or above `floor`; every other page
    // in the bitmap's span starts out unmanaged. Errors: Inval when the storage is too small or
    // misaligned or the regions are more than kMaxRegions, NoMem when they hold no whole page.
    ErrorOr init(std::span<const PhysRegion> regions, std::span<std::byte> storage,
                 uint64_t floor = kDefaultFloor);

    // Takes the pages overlapping [base, base + length) out of management for good (kernel
    // image, the bitmap's own storage, boot modules). Parts outside managed RAM are ignored.
    // Meant for boot, before allocation starts: a reserved frame can no longer be freed.
    void reserve(uint64_t base, uint64_t length);

    // One frame, lowest address first. NoMem when none is left. `pristine`, when given, says
    // whether the frame was never freed since init (it holds what RAM held at boot).
    Result<uint64_t> alloc(bool* pristine = nullptr);
    // `count` contiguous frames whose first physical page number is a multiple of
    // `align_pages` (a power of two). Inval for a zero count or a bad alignment, NoMem when no
    // such run exists. `pristine`: no frame of the run was ever freed.
    Result<uint64_t> alloc_contiguous(size_t count, size_t align_pages = 1,
                                      bool* pristine = nullptr);

    // Inval when the address is unaligned, not a managed frame, or already free (a double
    // free). Nothing changes on error; state() tells the cases apart for the panic message.
    ErrorOr free(uint64_t addr) { return free_contiguous(addr, 1); }
    // Frees [addr, addr + count pages) only if every frame in it is allocated.
    ErrorOr free_contiguous(uint64_t addr, size_t count);

    FrameState state(uint64_t addr) const;
    uint64_t free_frames() const { return m_free; }
    // Frames that can be allocated at all: managed RAM minus what was reserved.
    uint64_t total_frames() const { return m_total; }
    // The physical span the bitmap covers, [lowest_address(), end_address()).
    uint64_t lowest_address() const { return m_first_page << kPageShift; }
    uint64_t end_address() const { return m_end_page << kPageShift; }

private:
    // Page-number span [first, end) covered by the bitmaps, from clipped regions.
    struct PageSpan {
        uint64_t first;
        uint64_t end;
    };
    static bool managed_span(std::span<const PhysRegion> regions, uint64_t floor, PageSpan& out);
    static bool clip_region(const PhysRegion& region, uint64_t floor, PageSpan& out);
    static size_t words_for(const PageSpan& span);
    static size_t ready_words_for(size_t words);

    // Builds bitmap word `word` from the regions the first time anything looks at it. The
    // bitmaps are a cache of the regions (plus later changes), so this is logically const.
    void prepare(size_t word) const;
    // The first page number in [first, end) that is used (`used`) or free (!`used`), or `end`.
    uint64_t first_with(bool used, uint64_t first, uint64_t end) const;
    // Applies fn(word_index, mask) to every word overlapping pages [first, end), prepared.
    template <typename Fn>
    void for_each_word(uint64_t first, uint64_t end, Fn&& fn) const;

    PageSpan m_regions[kMaxRegions] = {};  // clipped, sorted, merged
    size_t m_region_count = 0;
    uint64_t* m_used = nullptr;    // bit set: not available (allocated, reserved or not RAM)
    uint64_t* m_usable = nullptr;  // bit set: managed RAM (in a region, not reserved)
    uint64_t* m_freed = nullptr;   // bit set: freed at least once since init
    uint64_t* m_ready = nullptr;   // bit w set: word w of the three bitmaps is built
    size_t m_words = 0;
    uint64_t m_first_page = 0;
    uint64_t m_end_page = 0;
    // Every word below m_hint is full, so single-frame allocation starts its search there.
    size_t m_hint = 0;
    uint64_t m_total = 0;
    uint64_t m_free = 0;
};

}  // namespace lib::vm
