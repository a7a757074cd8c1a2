// A program's address space: its page tables plus the VM areas (lib/vm) that say what may be
// mapped where. Pages are allocated on first touch (demand paging), zero-filled.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "kernel/arch/x86_64/layout.h"
#include "kernel/mm/page_table.h"
#include "lib/base/result.h"
#include "lib/vm/vm_area.h"

namespace kernel::fs {
class Inode;
}

namespace kernel::mm {

using lib::vm::kProtExec;
using lib::vm::kProtRead;
using lib::vm::kProtWrite;

enum class Access { Read, Write, Execute };

class AddressSpace {
public:
    static lib::Result<AddressSpace*> create();
    ~AddressSpace();

    void activate();
    PageTable& page_table() { return m_table; }

    // Replaces whatever is at [start, start + length) with a fresh zero-filled area. `tag`:
    // what the area maps (Process::file_tag), kept for /proc/self/maps.
    lib::ErrorOr map_fixed(uint64_t start, uint64_t length, int prot, lib::vm::VmKind kind,
                           uint64_t tag = 0);
    // Finds room for length bytes below the mmap top (top-down, like Linux) and maps it.
    lib::Result<uint64_t> map_anywhere(uint64_t length, int prot, lib::vm::VmKind kind);
    // Where map_anywhere would put length bytes. NoMem when nothing fits.
    lib::Result<uint64_t> find_room(uint64_t length) const;
    lib::ErrorOr unmap(uint64_t start, uint64_t length);
    lib::ErrorOr protect(uint64_t start, uint64_t length, int prot);
    // Drops the pages' contents (they read as zero afterwards), keeping the areas.
    void discard(uint64_t start, uint64_t length);
    // Faults in every page of the range now (MAP_POPULATE, load time).
    lib::ErrorOr populate(uint64_t start, uint64_t length);
    bool is_free(uint64_t start, uint64_t length) const;

    // Demand paging: returns true when the access at address is allowed and is now mapped.
    bool handle_fault(uint64_t address, Access access, bool page_present);

    // Writes into the program's memory regardless of its protection (loading, initial stack).
    lib::ErrorOr poke(uint64_t address, std::span<const std::byte> data);
    // Fills [start, start + length) (page aligned, inside one area) with the file's pages from
    // page `file_page` on: borrowed page-cache frames, read-only, when `copy` is false (and
    // the file's pages allow it); private copies otherwise. Pages past EOF read as zeros.
    // Copies are made writable only if the area's protection says so.
    lib::ErrorOr map_file_pages(uint64_t start, uint64_t length, fs::Inode& inode, uint64_t file_page,
                                bool copy);

    void set_mmap_range(uint64_t bottom, uint64_t top) {
        m_mmap_bottom = bottom;
        m_mmap_top = top;
    }
    const lib::vm::VmAreaMap& areas() const { return m_areas; }

private:
    // Area nodes come from the kernel heap.
    class HeapNodes final : public lib::vm::NodeAllocator {
    public:
        lib::vm::VmArea* allocate() override;
        void release(lib::vm::VmArea* area) override;
    };

    AddressSpace() : m_areas(m_nodes, {arch::kUserEnd}) {}
    lib::Result<uint64_t> page_for(uint64_t page, int prot);
    // Makes every page of [start, end) present: runs of missing pages get contiguous zeroed
    // frames mapped in one pass (loading touches hundreds of pages; one at a time costs a
    // table walk and an allocator scan each). Fault when a page lies outside every area.
    lib::ErrorOr make_present(uint64_t start, uint64_t end);
    void release_pages(uint64_t start, uint64_t end);

    PageTable m_table;
    HeapNodes m_nodes;
    lib::vm::VmAreaMap m_areas;
    uint64_t m_mmap_bottom = 0x10000;
    uint64_t m_mmap_top = 0;
};

uint64_t pte_flags_for(int prot);

}  // namespace kernel::mm
