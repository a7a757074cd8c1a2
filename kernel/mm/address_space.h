// A program's address space: its page tables plus the VM areas (lib/vm) that say what may be
// mapped where. Pages are mapped on first touch (demand paging): zero-filled, or from the file
// an area maps.
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
    // Faults in every page of the range now (MAP_POPULATE of anonymous memory).
    lib::ErrorOr populate(uint64_t start, uint64_t length);
    // Makes the missing pages of the range zero-filled, whatever their area maps: an ELF
    // segment's partial last page, whose bytes past the file data must read as zeros.
    lib::ErrorOr map_zeroed(uint64_t start, uint64_t length);
    bool is_free(uint64_t start, uint64_t length) const;
    // Whether areas mapping a file were removed since the last call (their files may be let
    // go: proc::Process::drop_unmapped_inodes).
    bool take_file_areas_removed() {
        bool removed = m_file_areas_removed;
        m_file_areas_removed = false;
        return removed;
    }
    // Every page of [start, start + length) lies in some area.
    bool is_mapped(uint64_t start, uint64_t length) const;

    // Demand paging: returns true when the access at address is allowed and is now mapped.
    bool handle_fault(uint64_t address, Access access, bool page_present);

    // Writes into the program's memory regardless of its protection (loading, initial stack).
    lib::ErrorOr poke(uint64_t address, std::span<const std::byte> data);
    // How map_file_pages fills an area at once (where it cannot fault pages in later: an area
    // whose tag names no file). BorrowOrCopy: the file's own frames, read-only and
    // copied on write, where the area is not writable; copies where it is. Copy: private
    // copies always. Shared: the file's frames, written through (pages past EOF are left out
    // and fault in from the file once it has grown).
    enum class FileMapping { BorrowOrCopy, Copy, Shared };
    // Fills [start, start + length) (page aligned, inside one area) with the file's pages from
    // page `file_page` on. Pages past EOF of a private mapping read as zeros.
    lib::ErrorOr map_file_pages(uint64_t start, uint64_t length, fs::Inode& inode, uint64_t file_page,
                                FileMapping how);

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
    // `zeroed`: every missing page is a zero page, whatever its area maps; otherwise pages of
    // file areas come from the file, as a fault would bring them.
    lib::ErrorOr make_present(uint64_t start, uint64_t end, bool zeroed);
    void release_pages(uint64_t start, uint64_t end);
    // map_file_pages' two ways: frames the file lends (fs::Inode::map_page), and copies.
    lib::ErrorOr map_lent_pages(uint64_t start, uint64_t pages, fs::Inode& inode, uint64_t file_page,
                                const lib::vm::VmArea& area);
    lib::ErrorOr map_copied_pages(uint64_t start, uint64_t pages, fs::Inode& inode,
                                  uint64_t file_page, const lib::vm::VmArea& area);
    // A missing page of a shared file mapping, from the file (false past its EOF).
    bool fault_in_shared(const lib::vm::VmArea& area, uint64_t page);
    // A missing page of a private file area (mmap MAP_PRIVATE, an ELF segment), with the
    // missing pages of its fault-around window; zeros where the area's tag keeps no file.
    bool fault_in_private(const lib::vm::VmArea& area, uint64_t page);
    // Lent pages where the area is not writable (copies where the file cannot lend them),
    // copies where it is: nothing ever writes into a file's page through a private area.
    lib::ErrorOr fill_private(uint64_t start, uint64_t pages, fs::Inode& inode, uint64_t file_page,
                              const lib::vm::VmArea& area);
    // The entry bits for a page a file lent (fs::Inode::map_page) to `area`.
    static uint64_t lent_page_flags(const lib::vm::VmArea& area, bool counted);

    PageTable m_table;
    HeapNodes m_nodes;
    lib::vm::VmAreaMap m_areas;
    uint64_t m_mmap_bottom = 0x10000;
    uint64_t m_mmap_top = 0;
    bool m_file_areas_removed = false;
};

uint64_t pte_flags_for(int prot);

}  // namespace kernel::mm
