// Address-space operations: VM areas decide, page tables follow. Frames of removed ranges are
// freed; protection changes rewrite the present entries.
#include "kernel/mm/address_space.h"

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/mm/frames.h"
#include "kernel/mm/heap.h"
#include "lib/base/checked.h"
#include "kernel/proc/crash.h"

namespace kernel::mm {

namespace {

constexpr uint64_t kPage = arch::kPageSize;

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
        free_frame(entry & pte::kAddressMask);
        entry = 0;
    });
}

lib::ErrorOr AddressSpace::map_fixed(uint64_t start, uint64_t length, int prot,
                                     lib::vm::VmKind kind) {
    // MAP_FIXED: whatever the range held is gone, even where the attributes stay the same.
    return m_areas.map(start, length, {prot, kind},
                       [&](const lib::vm::VmChange& old) { release_pages(old.start, old.end); });
}

lib::Result<uint64_t> AddressSpace::map_anywhere(uint64_t length, int prot, lib::vm::VmKind kind) {
    uint64_t start = TRY(m_areas.find_free(length, m_mmap_bottom, m_mmap_top, true));
    TRY(map_fixed(start, length, prot, kind));
    return start;
}

lib::ErrorOr AddressSpace::unmap(uint64_t start, uint64_t length) {
    return m_areas.unmap(start, length,
                         [&](const lib::vm::VmChange& old) { release_pages(old.start, old.end); });
}

lib::ErrorOr AddressSpace::protect(uint64_t start, uint64_t length, int prot) {
    uint64_t flags = pte_flags_for(prot);
    TRY(m_areas.protect(start, length, prot, [&](const lib::vm::VmChange& changed) {
        m_table.for_each_present(changed.start, changed.end, [&](uint64_t, uint64_t& entry) {
            entry = (entry & pte::kAddressMask) | flags;
        });
    }));
    return {};
}

void AddressSpace::discard(uint64_t start, uint64_t length) { release_pages(start, start + length); }

bool AddressSpace::is_free(uint64_t start, uint64_t length) const {
    return m_areas.is_free(start, length);
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
    auto frame = page_for(lib::align_down(address, kPage), area->prot);
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

lib::ErrorOr AddressSpace::make_present(uint64_t start, uint64_t end) {
    uint64_t page = lib::align_down(start, kPage);
    while (page < end) {
        const lib::vm::VmArea* area = m_areas.find(page);
        if (!area) return lib::Errno::Fault;
        if (uint64_t* entry = m_table.leaf(page); entry && (*entry & pte::kPresent)) {
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

lib::ErrorOr AddressSpace::poke(uint64_t address, std::span<const std::byte> data) {
    auto end = lib::checked_add(address, data.size());
    if (!end || *end > arch::kUserEnd) return lib::Errno::Fault;
    TRY(make_present(address, *end));
    size_t done = 0;
    while (done < data.size()) {
        uint64_t va = address + done;
        uint64_t frame = *m_table.leaf(lib::align_down(va, kPage)) & pte::kAddressMask;
        size_t offset = va % kPage;
        size_t chunk = kPage - offset < data.size() - done ? kPage - offset : data.size() - done;
        __builtin_memcpy(arch::phys_to_virt<std::byte>(frame) + offset, data.data() + done, chunk);
        done += chunk;
    }
    return {};
}

}  // namespace kernel::mm
