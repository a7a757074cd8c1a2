// The kernel's side of the vDSO: the data page it fills, and the mapping of the image that
// kernel/vdso/image.S embeds in the kernel.
#include "kernel/vdso/vdso.h"

#include <cstddef>

#include "kernel/arch/x86_64/layout.h"
#include "kernel/mm/page_table.h"
#include "kernel/time/clock.h"
#include "kernel/vdso/vvar.h"
#include "lib/base/checked.h"

extern "C" const std::byte vdso_image_start[];
extern "C" const std::byte vdso_image_end[];

namespace kernel::vdso {

namespace {

constexpr uint64_t kPage = arch::kPageSize;
static_assert(kVvarSize == kPage);

VvarPage g_vvar;

void barrier() { asm volatile("" ::: "memory"); }

// The seqlock's write side: odd while the fields change, even again after (x86 keeps stores
// in order, so compiler barriers are enough on one CPU and on many).
void publish_clock() {
    VvarData& data = g_vvar.data;
    const time::TscClock& clock = time::tsc_clock();
    data.seq = data.seq + 1;
    barrier();
    data.tsc_at_boot = clock.tsc_at_boot;
    data.ns_per_tick_q32 = clock.ns_per_tick_q32;
    data.realtime_at_boot_ns = clock.realtime_at_boot_ns;
    // Before calibration the kernel's clocks read 0; the vDSO then leaves them to it.
    data.mode = clock.ns_per_tick_q32 ? VclockMode::Tsc : VclockMode::None;
    barrier();
    data.seq = data.seq + 1;
}

// Maps `pages` kernel frames from `phys` on as a fresh area of `kind`.
lib::ErrorOr map_kernel_frames(mm::AddressSpace& space, uint64_t start, uint64_t phys,
                               uint64_t pages, int prot, lib::vm::VmKind kind) {
    TRY(space.map_fixed(start, pages * kPage, prot, kind));
    return space.page_table().map_pages(start, phys, pages,
                                        mm::pte_flags_for(prot) | mm::pte::kBorrowed);
}

uint64_t image_size() { return uint64_t(vdso_image_end - vdso_image_start); }

}  // namespace

lib::Result<Mapping> map_below(mm::AddressSpace& space, uint64_t top) {
    uint64_t size = image_size();  // page aligned by image.S
    if (top < size + 2 * kPage) return lib::Errno::NoMem;
    uint64_t base = lib::align_down(top - size, kPage);
    uint64_t vvar = base - kPage;
    publish_clock();
    TRY(map_kernel_frames(space, vvar, arch::image_to_phys(&g_vvar), 1, mm::kProtRead,
                          lib::vm::VmKind::Vvar));
    TRY(map_kernel_frames(space, base, arch::image_to_phys(vdso_image_start), size / kPage,
                          mm::kProtRead | mm::kProtExec, lib::vm::VmKind::Vdso));
    return Mapping{base, vvar};
}

}  // namespace kernel::vdso
