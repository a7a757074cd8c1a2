// Address-space operations: VM areas decide, page tables follow. Frames of removed ranges are
// freed; protection changes rewrite the present entries.
#include "kernel/mm/address_space.h"

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/mm/frames.h"
#include "kernel/mm/heap.h"
#include "lib/base/checked.h"
#include "kernel/proc/crash.h"
#include "kernel/proc/process.h"
#include "kernel/fs/vfs.h"

namespace kernel::mm {

namespace {

constexpr uint64_t kPage = arch::kPageSize;
// A fault in a file area maps the missing pages of the aligned window around it (Linux's
// fault_around_bytes is 64 KiB too): code and data are read in runs, and a fault costs far
// more than the entries it fills on hosts that emulate ring 0. Also the disk cache's cluster.
constexpr uint64_t kFaultAroundPages = 16;

// Areas whose pages a fault brings in from a file (when the tag keeps one: see
// proc::Process::mapped_inode), not as zeros.
bool is_private_file(const lib::vm::VmArea& area) {
    return area.kind == lib::vm::VmKind::File ||
           (area.kind == lib::vm::VmKind::Program && area.tag);
}

uint64_t pages_in(uint64_t bytes) { return bytes / kPage + (bytes % kPage != 0); }

bool allows(int prot, Access access) {
    switch (access) {
        case Access::Read:
            return prot != 0;  // x86 cannot make a page writable or executable but unreadable
        case Access::Write:
            return prot & kProtWrite;
        case Access::Execute:
            return prot & kProtExec;
    }
    return false;
}

}  // namespace

uint64_t pte_flags_for(int prot) {
    // PROT_NONE keeps the frame (its contents must survive a later mprotect) in a supervisor,
    // read-only, non-executable entry: every user access faults and is refused.
    if (prot == 0) return pte::kPresent | pte::kNoExecute;
    uint64_t flags = pte::kPresent | pte::kUser;
    if (prot & kProtWrite) flags |= pte::kWritable;
    if (!(prot & kProtExec)) flags |= pte::kNoExecute;
    return flags;
}

lib::Result<AddressSpace*> AddressSpace::create() {
    auto* space = new (std::nothrow) AddressSpace();
    if (!space) return lib::Errno::NoMem;
    auto table = PageTable::create_user();
    if (table.is_error()) {
        delete space;
        return table.error();
    }
    space->m_table = table.value();
    space->m_mmap_top = arch::kUserEnd;
    return space;
}

lib::vm::VmArea* AddressSpace::HeapNodes::allocate() { return try_make<lib::vm::VmArea>(); }

void AddressSpace::HeapNodes::release(lib::vm::VmArea* area) { delete area; }

AddressSpace::~AddressSpace() {
    release_pages(0, arch::kUserEnd);
    m_areas.clear();
    m_table.free_user_tables();
    free_frame(m_table.root());
}

void AddressSpace::activate() { arch::write_cr3(m_table.root()); }

void AddressSpace::release_pages(uint64_t start, uint64_t end) {
    m_table.for_each_present(start, end, [](uint64_t, uint64_t& entry) {
        if (entry & pte::kShared)
            release_frame(entry & pte::kAddressMask);
        else if (!(entry & pte::kBorrowed))
            free_frame(entry & pte::kAddressMask);
        entry = 0;
    });
}

lib::ErrorOr AddressSpace::map_fixed(uint64_t start, uint64_t length, int prot,
                                     lib::vm::VmKind kind, uint64_t tag) {
    // MAP_FIXED: whatever the range held is gone, even where the attributes stay the same.
    return m_areas.map(start, length, {prot, kind, tag}, [&](const lib::vm::VmChange& old) {
        release_pages(old.start, old.end);
        if (old.tag) m_file_areas_removed = true;
    });
}

lib::Result<uint64_t> AddressSpace::map_anywhere(uint64_t length, int prot, lib::vm::VmKind kind) {
    uint64_t start = TRY(find_room(length));
    TRY(map_fixed(start, length, prot, kind));
    return start;
}

lib::Result<uint64_t> AddressSpace::find_room(uint64_t length) const {
    return m_areas.find_free(length, m_mmap_bottom, m_mmap_top, true);
}

lib::ErrorOr AddressSpace::unmap(uint64_t start, uint64_t length) {
    return m_areas.unmap(start, length, [&](const lib::vm::VmChange& old) {
        release_pages(old.start, old.end);
        if (old.tag) m_file_areas_removed = true;
    });
}

lib::ErrorOr AddressSpace::protect(uint64_t start, uint64_t length, int prot) {
    uint64_t flags = pte_flags_for(prot);
    bool out_of_memory = false;
    if (prot & kProtWrite) {
        // A shared mapping of a file opened read-only can never be written (Linux: EACCES),
        // nor can the vDSO's data page (the kernel's own frame).
        for (auto* area = m_areas.first_ending_after(start); area && area->start < start + length;
             area = m_areas.next(area))
            if (area->kind == lib::vm::VmKind::SharedFileReadOnly || area->kind == lib::vm::VmKind::Vvar)
                return lib::Errno::Access;
    }
    TRY(m_areas.protect(start, length, prot, [&](const lib::vm::VmChange& changed) {
        m_table.for_each_present(changed.start, changed.end, [&](uint64_t, uint64_t& entry) {
            uint64_t frame = entry & pte::kAddressMask;
            uint64_t keep = entry & (pte::kBorrowed | pte::kShared);
            // A borrowed frame is never written through: made writable, the page gets its
            // own copy first (copy-on-write, done now rather than at the first write).
            if ((keep & pte::kBorrowed) && (prot & kProtWrite)) {
                auto copy = alloc_frame();
                if (copy.is_error()) {
                    out_of_memory = true;
                    return;
                }
                __builtin_memcpy(arch::phys_to_virt(copy.value()), arch::phys_to_virt(frame), kPage);
                if (keep & pte::kShared) release_frame(frame);
                frame = copy.value();
                keep = 0;
            }
            entry = frame | flags | keep;
        });
    }));
    if (out_of_memory) return lib::Errno::NoMem;
    return {};
}

void AddressSpace::discard(uint64_t start, uint64_t length) { release_pages(start, start + length); }

bool AddressSpace::is_free(uint64_t start, uint64_t length) const {
    return m_areas.is_free(start, length);
}

bool AddressSpace::is_mapped(uint64_t start, uint64_t length) const {
    uint64_t covered = start, end = start + length;
    for (auto* area = m_areas.first_ending_after(start); area && covered < end; area = m_areas.next(area)) {
        if (area->start > covered) return false;  // a hole
        covered = area->end;
    }
    return covered >= end;
}

lib::Result<uint64_t> AddressSpace::page_for(uint64_t page, int prot) {
    if (uint64_t* entry = m_table.leaf(page); entry && (*entry & pte::kPresent))
        return *entry & pte::kAddressMask;
    uint64_t frame = TRY(alloc_zeroed_frame());
    auto mapped = m_table.map(page, frame, pte_flags_for(prot));
    if (mapped.is_error()) {
        free_frame(frame);
        return mapped.error();
    }
    return frame;
}

bool AddressSpace::handle_fault(uint64_t address, Access access, bool page_present) {
    const lib::vm::VmArea* area = m_areas.find(address);
    if (!area || !allows(area->prot, access)) return false;
    // A present page that still faults was a protection violation the area allows only if
    // the entry is stale (never the case: protect() rewrites entries). Refuse it.
    if (page_present) return false;
    uint64_t page = lib::align_down(address, kPage);
    if (lib::vm::is_shared_file(area->kind)) return fault_in_shared(*area, page);
    if (is_private_file(*area)) return fault_in_private(*area, page);
    auto frame = page_for(page, area->prot);
    if (frame.is_error()) proc::out_of_memory(address);
    return true;
}

lib::ErrorOr AddressSpace::populate(uint64_t start, uint64_t length) {
    for (uint64_t page = start; page < start + length; page += kPage) {
        const lib::vm::VmArea* area = m_areas.find(page);
        if (!area) return lib::Errno::NoMem;
        if (area->prot) TRY(page_for(page, area->prot));
    }
    return {};
}

lib::ErrorOr AddressSpace::map_zeroed(uint64_t start, uint64_t length) {
    auto end = lib::checked_add(start, length);
    if (!end || *end > arch::kUserEnd) return lib::Errno::Fault;
    return make_present(start, *end, true);
}

lib::ErrorOr AddressSpace::make_present(uint64_t start, uint64_t end, bool zeroed) {
    uint64_t page = lib::align_down(start, kPage);
    while (page < end) {
        const lib::vm::VmArea* area = m_areas.find(page);
        if (!area) return lib::Errno::Fault;
        if (uint64_t* entry = m_table.leaf(page); entry && (*entry & pte::kPresent)) {
            page += kPage;
            continue;
        }
        if (!zeroed && (lib::vm::is_shared_file(area->kind) || is_private_file(*area))) {
            bool mapped = lib::vm::is_shared_file(area->kind) ? fault_in_shared(*area, page)
                                                              : fault_in_private(*area, page);
            if (!mapped) return lib::Errno::Fault;
            page += kPage;
            continue;
        }
        // The run of missing pages from here, within this area.
        uint64_t limit = area->end < end ? area->end : end;
        uint64_t run_end = page + kPage;
        while (run_end < limit) {
            uint64_t* entry = m_table.leaf(run_end);
            if (entry && (*entry & pte::kPresent)) break;
            run_end += kPage;
        }
        uint64_t count = (run_end - page) / kPage;
        uint64_t flags = pte_flags_for(area->prot ? area->prot : kProtRead);
        auto frames = alloc_zeroed_frames(count);
        if (frames.is_error()) {
            TRY(page_for(page, area->prot ? area->prot : kProtRead));  // fragmented: one page
            page += kPage;
            continue;
        }
        if (auto mapped = m_table.map_pages(page, frames.value(), count, flags); mapped.is_error()) {
            free_frames(frames.value(), count);
            return mapped.error();
        }
        page = run_end;
    }
    return {};
}

uint64_t AddressSpace::lent_page_flags(const lib::vm::VmArea& area, bool counted) {
    uint64_t counted_bit = counted ? pte::kShared : 0;
    // A SharedFile area only ever gets the file's own (counted) frames.
    if (area.kind == lib::vm::VmKind::SharedFile) return pte_flags_for(area.prot) | counted_bit;
    return pte_flags_for(area.prot & ~kProtWrite) | pte::kBorrowed | counted_bit;
}

bool AddressSpace::fault_in_private(const lib::vm::VmArea& area, uint64_t page) {
    uint64_t file_page = 0;
    fs::Inode* inode = proc::current().mapped_inode(area, page, file_page);
    uint64_t file_pages = inode ? pages_in(inode->size()) : 0;
    if (!inode || file_page >= file_pages) {  // no file to read, or past its EOF: zeros
        if (page_for(page, area.prot).is_error()) proc::out_of_memory(page);
        return true;
    }
    if (auto filled = fill_private(page, 1, *inode, file_page, area); filled.is_error()) {
        if (filled.error() == lib::Errno::NoMem) proc::out_of_memory(page);
        return false;  // the file cannot be read
    }
    // The rest of the window, inside the area and the file, best effort.
    uint64_t window = lib::align_down(page, kFaultAroundPages * kPage);
    uint64_t first = window > area.start ? window : area.start;
    if ((page - first) / kPage > file_page) first = page - file_page * kPage;  // not before page 0
    uint64_t window_bytes = kFaultAroundPages * kPage;
    uint64_t last = area.end - window > window_bytes ? window + window_bytes : area.end;
    uint64_t left_in_file = file_pages - file_page;
    if ((last - page) / kPage > left_in_file) last = page + left_in_file * kPage;
    for (uint64_t at = first; at < last;) {
        if (uint64_t* entry = m_table.leaf(at); entry && (*entry & pte::kPresent)) {
            at += kPage;
            continue;
        }
        uint64_t run_end = at + kPage;
        while (run_end < last) {
            uint64_t* entry = m_table.leaf(run_end);
            if (entry && (*entry & pte::kPresent)) break;
            run_end += kPage;
        }
        // The window's file pages follow the faulting one's (the area maps the file linearly).
        uint64_t at_file_page =
            at < page ? file_page - (page - at) / kPage : file_page + (at - page) / kPage;
        if (fill_private(at, (run_end - at) / kPage, *inode, at_file_page, area).is_error()) break;
        at = run_end;
    }
    return true;
}

lib::ErrorOr AddressSpace::fill_private(uint64_t start, uint64_t pages, fs::Inode& inode,
                                        uint64_t file_page, const lib::vm::VmArea& area) {
    if (!(area.prot & kProtWrite)) {
        // Data that is not in page-sized frames (NotSup) is copied instead.
        if (auto lent = map_lent_pages(start, pages, inode, file_page, area);
            lent.has_value() || lent.error() != lib::Errno::OpNotSupp)
            return lent;
    }
    return map_copied_pages(start, pages, inode, file_page, area);
}

bool AddressSpace::fault_in_shared(const lib::vm::VmArea& area, uint64_t page) {
    uint64_t file_page = 0;
    fs::Inode* inode = proc::current().mapped_inode(area, page, file_page);
    if (!inode || file_page >= inode->size() / kPage + (inode->size() % kPage != 0)) return false;
    auto lent = inode->map_page(file_page, area.kind == lib::vm::VmKind::SharedFile);
    if (lent.is_error()) {
        if (lent.error() == lib::Errno::NoMem || lent.error() == lib::Errno::NoSpc)
            proc::out_of_memory(page);
        return false;
    }
    if (m_table.map(page, lent.value().frame, lent_page_flags(area, lent.value().counted)).is_error()) {
        if (lent.value().counted) release_frame(lent.value().frame);
        proc::out_of_memory(page);
    }
    return true;
}

lib::ErrorOr AddressSpace::map_lent_pages(uint64_t start, uint64_t pages, fs::Inode& inode,
                                          uint64_t file_page, const lib::vm::VmArea& area) {
    bool for_write = area.kind == lib::vm::VmKind::SharedFile;
    fs::MappedPage pending{};
    bool have_pending = false;
    for (uint64_t i = 0; i < pages;) {
        fs::MappedPage first = have_pending ? pending : TRY(inode.map_page(file_page + i, for_write));
        have_pending = false;
        // A run of physically consecutive frames (the page cache reads ahead into contiguous
        // frames) maps in one pass.
        uint64_t run = 1;
        while (i + run < pages) {
            auto next = inode.map_page(file_page + i + run, for_write);
            if (next.is_error()) break;  // the next round asks again and reports it
            if (next.value().frame != first.frame + run * kPage || next.value().counted != first.counted) {
                pending = next.value();
                have_pending = true;
                break;
            }
            ++run;
        }
        auto mapped = m_table.map_pages(start + i * kPage, first.frame, run,
                                        lent_page_flags(area, first.counted));
        if (mapped.is_error()) {
            if (first.counted)
                for (uint64_t r = 0; r < run; ++r) release_frame(first.frame + r * kPage);
            if (have_pending && pending.counted) release_frame(pending.frame);
            return mapped.error();
        }
        i += run;
    }
    return {};
}

lib::ErrorOr AddressSpace::map_copied_pages(uint64_t start, uint64_t pages, fs::Inode& inode,
                                            uint64_t file_page, const lib::vm::VmArea& area) {
    uint64_t flags = pte_flags_for(area.prot);
    for (uint64_t i = 0; i < pages; ++i) {
        uint64_t frame = TRY(alloc_frame());
        auto* bytes = arch::phys_to_virt<std::byte>(frame);
        if (auto cached = inode.cached_page(file_page + i); cached.has_value()) {
            __builtin_memcpy(bytes, arch::phys_to_virt(cached.value()), kPage);
        } else {
            __builtin_memset(bytes, 0, kPage);
            auto got = inode.read((file_page + i) * kPage, {bytes, kPage});
            if (got.is_error() && got.error() != lib::Errno::Inval) {
                free_frame(frame);
                return got.error();
            }
        }
        if (auto mapped = m_table.map_pages(start + i * kPage, frame, 1, flags); mapped.is_error()) {
            free_frame(frame);
            return mapped.error();
        }
    }
    return {};
}

lib::ErrorOr AddressSpace::map_file_pages(uint64_t start, uint64_t length, fs::Inode& inode,
                                          uint64_t file_page, FileMapping how) {
    const lib::vm::VmArea* area = m_areas.find(start);
    if (!area || start % kPage || length % kPage || area->end - start < length) return lib::Errno::Inval;
    uint64_t pages = length / kPage;
    if (how == FileMapping::Shared) {
        // Pages from EOF on stay missing: they fault in from the file once it has grown.
        uint64_t in_file = inode.size() / kPage + (inode.size() % kPage != 0);
        in_file = in_file > file_page ? in_file - file_page : 0;
        return map_lent_pages(start, pages < in_file ? pages : in_file, inode, file_page, *area);
    }
    if (how == FileMapping::BorrowOrCopy)
        return fill_private(start, pages, inode, file_page, *area);
    return map_copied_pages(start, pages, inode, file_page, *area);
}

lib::ErrorOr AddressSpace::poke(uint64_t address, std::span<const std::byte> data) {
    auto end = lib::checked_add(address, data.size());
    if (!end || *end > arch::kUserEnd) return lib::Errno::Fault;
    TRY(make_present(address, *end, false));
    size_t done = 0;
    while (done < data.size()) {
        uint64_t va = address + done;
        uint64_t& entry = *m_table.leaf(lib::align_down(va, kPage));
        if (entry & pte::kBorrowed) {  // never write into the page cache: copy first
            uint64_t copy = TRY(alloc_frame());
            uint64_t borrowed = entry & pte::kAddressMask;
            __builtin_memcpy(arch::phys_to_virt(copy), arch::phys_to_virt(borrowed), kPage);
            if (entry & pte::kShared) release_frame(borrowed);
            entry = copy | (entry & ~(pte::kAddressMask | pte::kBorrowed | pte::kShared));
            if (m_table.is_active()) flush_tlb_page(lib::align_down(va, kPage));
        }
        uint64_t frame = entry & pte::kAddressMask;
        size_t offset = va % kPage;
        size_t chunk = kPage - offset < data.size() - done ? kPage - offset : data.size() - done;
        __builtin_memcpy(arch::phys_to_virt<std::byte>(frame) + offset, data.data() + done, chunk);
        done += chunk;
    }
    return {};
}

}  // namespace kernel::mm
