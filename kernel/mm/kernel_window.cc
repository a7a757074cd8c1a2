#include "kernel/mm/kernel_window.h"

#include "kernel/arch/x86_64/layout.h"
#include "kernel/mm/page_table.h"

namespace kernel::mm {

namespace {

struct View {
    uint64_t base = 0;
    uint64_t pages = 0;
    PageSource* source = nullptr;
};

constexpr int kMaxViews = 8;  // boot-time only: the program and its interpreter
View g_views[kMaxViews];
int g_view_count = 0;

}  // namespace

lib::Result<std::span<const std::byte>> make_lazy_view(PageSource& source, uint64_t size) {
    if (size == 0) return lib::Errno::Inval;
    if (g_view_count == kMaxViews) return lib::Errno::NoMem;
    uint64_t pages = (size + arch::kPageSize - 1) / arch::kPageSize;
    uint64_t base = TRY(reserve_kernel_window(pages));
    g_views[g_view_count++] = {base, pages, &source};
    return std::span<const std::byte>(reinterpret_cast<const std::byte*>(base), size_t(size));
}

bool handle_view_fault(uint64_t address) {
    for (int i = 0; i < g_view_count; ++i) {
        const View& view = g_views[i];
        if (address < view.base || address - view.base >= view.pages * arch::kPageSize) continue;
        uint64_t index = (address - view.base) / arch::kPageSize;
        auto frame = view.source->frame(index);
        if (frame.is_error()) return false;
        return kernel_page_table()
            .map_pages(view.base + index * arch::kPageSize, frame.value(), 1, pte::kNoExecute | pte::kGlobal)
            .is_error() == false;
    }
    return false;
}

}  // namespace kernel::mm
