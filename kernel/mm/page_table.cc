// Page-table walking, mapping and teardown, plus the kernel's own address space.
#include "kernel/mm/page_table.h"

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/cpu_features.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/debug/panic.h"
#include "kernel/mm/frames.h"
#include "lib/base/checked.h"

extern "C" char kernel_text_start[], kernel_text_end[], kernel_rodata_start[],
    kernel_rodata_end[], kernel_data_start[], kernel_data_end[], kernel_tables_start[],
    kernel_tables_end[], boot_stack_guard[];

namespace kernel::mm {

namespace {

PageTable g_kernel_table;

uint64_t* table_at(uint64_t phys) { return arch::phys_to_virt<uint64_t>(phys); }

int index_at(uint64_t va, int level) { return int((va >> (12 + 9 * level)) & 511); }

uint64_t level_span(int level) { return 1ull << (12 + 9 * level); }

}  // namespace

PageTable& kernel_page_table() { return g_kernel_table; }

void flush_tlb_page(uint64_t va) { arch::invlpg(va); }

bool PageTable::is_active() const { return (arch::read_cr3() & pte::kAddressMask) == m_root; }

lib::Result<PageTable> PageTable::create_user() {
    uint64_t root = TRY(alloc_zeroed_frame());
    uint64_t* entries = table_at(root);
    const uint64_t* kernel_entries = table_at(g_kernel_table.root());
    for (int i = 256; i < 512; ++i) entries[i] = kernel_entries[i];
    return PageTable(root);
}

// Walks from the root to the table at leaf_level (0 = PT, 1 = PD, 2 = PDPT), creating missing
// tables, and returns the entry for va at that level.
lib::Result<uint64_t*> PageTable::walk_create(uint64_t va, int leaf_level, uint64_t table_flags) {
    uint64_t* table = table_at(m_root);
    for (int level = 3; level > leaf_level; --level) {
        uint64_t& entry = table[index_at(va, level)];
        if (!(entry & pte::kPresent)) {
            uint64_t frame = TRY(alloc_zeroed_frame());
            entry = frame | table_flags;
        } else if (entry & pte::kHuge) {
            panic("page table: mapping {:#x} under a large page", va);
        }
        table = table_at(entry & pte::kAddressMask);
    }
    return &table[index_at(va, leaf_level)];
}

lib::ErrorOr PageTable::map(uint64_t va, uint64_t pa, uint64_t flags) {
    uint64_t table_flags = pte::kPresent | pte::kWritable | (flags & pte::kUser);
    uint64_t* entry = TRY(walk_create(va, 0, table_flags));
    bool was_present = *entry & pte::kPresent;
    *entry = pa | flags | pte::kPresent;
    if (was_present && is_active()) flush_tlb_page(va);
    return {};
}

lib::ErrorOr PageTable::map_pages(uint64_t va, uint64_t pa, uint64_t count, uint64_t flags) {
    uint64_t table_flags = pte::kPresent | pte::kWritable | (flags & pte::kUser);
    bool active = is_active();
    uint64_t done = 0;
    while (done < count) {
        uint64_t* entry = TRY(walk_create(va + done * arch::kPageSize, 0, table_flags));
        int index = index_at(va + done * arch::kPageSize, 0);
        do {
            bool was_present = *entry & pte::kPresent;
            *entry++ = (pa + done * arch::kPageSize) | flags | pte::kPresent;
            if (was_present && active) flush_tlb_page(va + done * arch::kPageSize);
            ++done;
        } while (++index < 512 && done < count);
    }
    return {};
}

lib::ErrorOr PageTable::map_range(uint64_t va, uint64_t pa, uint64_t length, uint64_t flags,
                                  bool allow_1g) {
    uint64_t table_flags = pte::kPresent | pte::kWritable | (flags & pte::kUser);
    // The largest page size that fits at (v, p) with `left` bytes to go.
    auto level_for = [&](uint64_t v, uint64_t p, uint64_t left) {
        if (allow_1g && (v | p) % kHugePage == 0 && left >= kHugePage) return 2;
        if ((v | p) % kLargePage == 0 && left >= kLargePage) return 1;
        return 0;
    };
    uint64_t done = 0;
    while (done < length) {
        uint64_t v = va + done, p = pa + done;
        int level = level_for(v, p, length - done);
        uint64_t span = level_span(level);
        uint64_t leaf_flags = p | flags | pte::kPresent | (level ? pte::kHuge : 0);
        // One walk per table, then consecutive entries of it: walking from the root for
        // every entry made the physmap cost tens of milliseconds of emulated ring 0.
        uint64_t* entry = TRY(walk_create(v, level, table_flags));
        int index = index_at(v, level);
        do {
            *entry++ = leaf_flags;
            leaf_flags += span;
            done += span;
            ++index;
        } while (index < 512 && done < length &&
                 level_for(va + done, pa + done, length - done) == level);
    }
    return {};
}

uint64_t* PageTable::leaf(uint64_t va) const {
    uint64_t* table = table_at(m_root);
    for (int level = 3; level > 0; --level) {
        uint64_t entry = table[index_at(va, level)];
        if (!(entry & pte::kPresent) || (entry & pte::kHuge)) return nullptr;
        table = table_at(entry & pte::kAddressMask);
    }
    return &table[index_at(va, 0)];
}

uint64_t* next_present_leaf(uint64_t root, uint64_t& va, uint64_t end) {
    while (va < end) {
        uint64_t* table = table_at(root);
        int level = 3;
        for (; level > 0; --level) {
            uint64_t entry = table[index_at(va, level)];
            if (!(entry & pte::kPresent) || (entry & pte::kHuge)) break;
            table = table_at(entry & pte::kAddressMask);
        }
        if (level == 0) {
            // Scan the rest of this leaf table in place rather than walking down again for
            // every missing page (sparse stacks and heaps have many).
            for (uint64_t i = index_at(va, 0); i < 512 && va < end; ++i, va += arch::kPageSize)
                if (table[i] & pte::kPresent) return &table[i];
            if (va == 0) break;  // wrapped past the top
            continue;
        }
        // Skip the whole span the missing entry covers.
        uint64_t span = level_span(level);
        uint64_t next = (va & ~(span - 1)) + span;
        if (next <= va) break;  // wrapped past the top
        va = next;
    }
    return nullptr;
}

void PageTable::free_user_tables() {
    uint64_t* pml4 = table_at(m_root);
    for (int i = 0; i < 256; ++i) {
        if (!(pml4[i] & pte::kPresent)) continue;
        uint64_t* pdpt = table_at(pml4[i] & pte::kAddressMask);
        for (int j = 0; j < 512; ++j) {
            if (!(pdpt[j] & pte::kPresent) || (pdpt[j] & pte::kHuge)) continue;
            uint64_t* pd = table_at(pdpt[j] & pte::kAddressMask);
            for (int k = 0; k < 512; ++k)
                if ((pd[k] & pte::kPresent) && !(pd[k] & pte::kHuge))
                    free_frame(pd[k] & pte::kAddressMask);
            free_frame(pdpt[j] & pte::kAddressMask);
        }
        free_frame(pml4[i] & pte::kAddressMask);
        pml4[i] = 0;
    }
}

namespace {

void map_image_part(PageTable& table, const char* start, const char* end, uint64_t flags) {
    uint64_t va = reinterpret_cast<uint64_t>(start);
    uint64_t length = reinterpret_cast<uint64_t>(end) - va;
    auto result = table.map_range(va, arch::image_to_phys(start), length, flags, false);
    if (result.is_error()) panic("cannot map the kernel image");
}

}  // namespace

void init_kernel_page_table() {
    auto root = alloc_zeroed_frame();
    if (root.is_error()) panic("no memory for the kernel page table");
    PageTable table(root.value());

    // Every kernel-half PML4 slot we will ever use gets its PDPT now, so user tables that copy
    // the kernel half at creation stay complete.
    uint64_t* pml4 = table_at(table.root());
    uint64_t physmap_slots = (highest_ram_address() + (1ull << 39) - 1) >> 39;
    for (uint64_t slot = 256; slot < 256 + physmap_slots; ++slot)
        pml4[slot] = alloc_zeroed_frame().value() | pte::kPresent | pte::kWritable;
    pml4[index_at(arch::kStackRegionBase, 3)] =
        alloc_zeroed_frame().value() | pte::kPresent | pte::kWritable;
    pml4[index_at(arch::kMmioRegionBase, 3)] =
        alloc_zeroed_frame().value() | pte::kPresent | pte::kWritable;
    pml4[511] = alloc_zeroed_frame().value() | pte::kPresent | pte::kWritable;

    uint64_t physmap_flags = pte::kWritable | pte::kNoExecute | pte::kGlobal;
    auto mapped = table.map_range(arch::kPhysmapBase, 0, highest_ram_address(), physmap_flags,
                                  arch::cpu().pdpe1gb);
    if (mapped.is_error()) panic("cannot build the physmap");
    // W^X for the kernel image, at its slid address: text read-only and executable, the rest
    // never executable; the page below the boot stack stays unmapped (a guard page). The boot
    // section and the link-time alias are not mapped at all.
    uint64_t data_flags = pte::kGlobal | pte::kNoExecute | pte::kWritable;
    map_image_part(table, kernel_text_start, kernel_text_end, pte::kGlobal);
    map_image_part(table, kernel_rodata_start, kernel_rodata_end, pte::kGlobal | pte::kNoExecute);
    map_image_part(table, kernel_data_start, boot_stack_guard, data_flags);
    map_image_part(table, boot_stack_guard + arch::kPageSize, kernel_data_end, data_flags);
    map_image_part(table, kernel_tables_start, kernel_tables_end, pte::kGlobal | pte::kNoExecute);

    g_kernel_table = table;
    arch::write_cr3(table.root());
}

namespace {

uint64_t g_next_window = arch::kMmioRegionBase;  // boot-time only, FIXME(#5): a lock

}  // namespace

lib::Result<uint64_t> reserve_kernel_window(uint64_t pages) {
    uint64_t span = pages * arch::kPageSize;
    if (pages == 0 || pages > arch::kMmioRegionSize / arch::kPageSize ||
        span > arch::kMmioRegionBase + arch::kMmioRegionSize - g_next_window)
        return lib::Errno::NoMem;
    uint64_t va = g_next_window;
    g_next_window += span + arch::kPageSize;  // an unmapped guard page after each window
    return va;
}

lib::Result<uint64_t> map_mmio(uint64_t phys, uint64_t length) {
    uint64_t first = lib::align_down(phys, arch::kPageSize);
    auto end = lib::checked_add(phys, length);
    auto last = end ? lib::align_up(*end, arch::kPageSize) : std::nullopt;
    if (length == 0 || !last) return lib::Errno::Inval;
    uint64_t pages = (*last - first) / arch::kPageSize;
    uint64_t va = TRY(reserve_kernel_window(pages));
    uint64_t flags =
        pte::kWritable | pte::kNoExecute | pte::kGlobal | pte::kCacheDisable | pte::kWriteThrough;
    TRY(g_kernel_table.map_pages(va, first, pages, flags));
    return va + (phys - first);
}

}  // namespace kernel::mm
