// FilePages: the data of an in-memory file, one 4 KiB frame per page, found through a
// three-level radix of frame-sized tables (512 entries each: 512 GiB at most). A missing page
// is a hole and reads as zeros, so sparse files cost only what was written.
#pragma once

#include <cstdint>

#include "lib/base/result.h"

namespace kernel::fs {

// Where data frames come from and go back to (the filesystem, which counts them).
class PagePool {
public:
    // A frame for file data, zero-filled when `zeroed`. NoSpc when the filesystem is full.
    virtual lib::Result<uint64_t> alloc_page(bool zeroed) = 0;
    // The file lets go of the frame (a mapping may still hold it: mm::release_frame).
    virtual void free_page(uint64_t frame) = 0;

protected:
    ~PagePool() = default;
};

class FilePages {
public:
    static constexpr uint64_t kMaxPages = 1ull << 27;

    FilePages() = default;
    FilePages(const FilePages&) = delete;
    FilePages& operator=(const FilePages&) = delete;
    ~FilePages();  // the owner must have called free_from(0, ...) first

    // The frame of page `index`, or 0 for a hole.
    uint64_t frame(uint64_t index) const;
    // The frame of page `index`, allocated when missing (zero-filled unless `whole`: the
    // caller overwrites all of it). NoSpc, NoMem; FBig past kMaxPages.
    lib::Result<uint64_t> frame_for_write(uint64_t index, bool whole, PagePool& pool);
    // Frees every page at or after `first` (and the tables nothing uses any more).
    void free_from(uint64_t first, PagePool& pool);
    uint64_t page_count() const { return m_count; }

private:
    uint64_t m_root = 0;  // physical address of the top table, 0 when no page exists
    uint64_t m_end = 0;   // 1 + the highest index ever allocated: bounds free_from's walk
    uint64_t m_count = 0;
};

}  // namespace kernel::fs
