// A program's address space: its page tables plus the VM areas (lib/vm) that say what may be
// mapped where. Pages are allocated on first touch (demand paging), zero-filled.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "kernel/mm/page_table.h"
#include "lib/base/result.h"
#include "kernel/mm/interim_vm.h"

namespace kernel::mm {

// Linux PROT_* bits.
inline constexpr int kProtRead = 1;
inline constexpr int kProtWrite = 2;
inline constexpr int kProtExec = 4;

enum class Access { Read, Write, Execute };

class AddressSpace {
public:
    static lib::Result<AddressSpace*> create();
    ~AddressSpace();

    void activate();
    PageTable& page_table() { return m_table; }

    // Replaces whatever is at [start, start + length) with a fresh zero-filled area.
    lib::ErrorOr map_fixed(uint64_t start, uint64_t length, int prot, lib::vm::VmKind kind);
    // Finds room for length bytes below the mmap top (top-down, like Linux) and maps it.
    lib::Result<uint64_t> map_anywhere(uint64_t length, int prot, lib::vm::VmKind kind);
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

    void set_mmap_range(uint64_t bottom, uint64_t top) {
        m_mmap_bottom = bottom;
        m_mmap_top = top;
    }
    const lib::vm::VmAreaMap& areas() const { return m_areas; }

private:
    AddressSpace() = default;
    lib::Result<uint64_t> page_for(uint64_t page, int prot);
    void release_pages(uint64_t start, uint64_t end);

    PageTable m_table;
    lib::vm::VmAreaMap m_areas;
    uint64_t m_mmap_bottom = 0x10000;
    uint64_t m_mmap_top = 0;
};

uint64_t pte_flags_for(int prot);

}  // namespace kernel::mm
