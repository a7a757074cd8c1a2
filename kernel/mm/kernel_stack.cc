// Stack region allocation: a bump pointer over kStackRegionBase (stacks are never freed until
// threads exist, FIXME(#5)).
#include "kernel/mm/kernel_stack.h"

#include "kernel/arch/x86_64/layout.h"
#include "kernel/debug/panic.h"
#include "kernel/mm/frames.h"
#include "kernel/mm/page_table.h"

namespace kernel::mm {

namespace {

uint64_t g_next = arch::kStackRegionBase;

}  // namespace

uint64_t allocate_kernel_stack() {
    uint64_t base = g_next + arch::kPageSize;  // leave the guard page unmapped
    auto frames = alloc_zeroed_frames(kKernelStackPages);
    if (frames.is_error()) panic("out of memory for a kernel stack");
    auto mapped = kernel_page_table().map_pages(base, frames.value(), kKernelStackPages,
                                                pte::kWritable | pte::kNoExecute | pte::kGlobal);
    if (mapped.is_error()) panic("out of memory for a kernel stack");
    g_next = base + kKernelStackPages * arch::kPageSize;
    return g_next;
}

}  // namespace kernel::mm
