// Stack region allocation: a bump pointer over kStackRegionBase, and a free list of the stacks
// of exited threads (they stay mapped and are handed out again as they are: a stack needs no
// zeroing, and remapping would cost a table walk per page).
#include "kernel/mm/kernel_stack.h"

#include "kernel/arch/x86_64/layout.h"
#include "kernel/debug/panic.h"
#include "kernel/mm/frames.h"
#include "kernel/mm/page_table.h"

namespace kernel::mm {

namespace {

uint64_t g_next = arch::kStackRegionBase;
uint64_t g_free = 0;  // top of a free stack; the next one's top is stored just below it

}  // namespace

lib::Result<uint64_t> try_allocate_kernel_stack() {
    if (g_free) {
        uint64_t top = g_free;
        g_free = *reinterpret_cast<uint64_t*>(top - 8);
        return top;
    }
    uint64_t base = g_next + arch::kPageSize;  // leave the guard page unmapped
    uint64_t frames = TRY(alloc_frames(kKernelStackPages));
    auto mapped = kernel_page_table().map_pages(base, frames, kKernelStackPages,
                                                pte::kWritable | pte::kNoExecute | pte::kGlobal);
    if (mapped.is_error()) {
        free_frames(frames, kKernelStackPages);
        return mapped.error();
    }
    g_next = base + kKernelStackPages * arch::kPageSize;
    return g_next;
}

uint64_t allocate_kernel_stack() {
    auto top = try_allocate_kernel_stack();
    if (top.is_error()) panic("out of memory for a kernel stack");
    return top.value();
}

void free_kernel_stack(uint64_t top) {
    *reinterpret_cast<uint64_t*>(top - 8) = g_free;
    g_free = top;
}

}  // namespace kernel::mm
