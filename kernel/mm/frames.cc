// The kernel's frame allocator instance. Its bitmap is carved from the first RAM range that can
// hold it above the reserved areas; until the final page tables exist only the first GiB is
// mapped, so the bitmap and early page tables must come from there.
#include "kernel/mm/frames.h"

#include "kernel/arch/x86_64/layout.h"
#include "kernel/debug/panic.h"
#include "lib/base/checked.h"
#include "kernel/mm/heap.h"
#include "lib/vm/frame_allocator.h"
#include "lib/vm/frame_refs.h"

namespace kernel::mm {

namespace {

lib::vm::FrameAllocator g_frames;

class HeapSlots final : public lib::vm::FrameRefs::Storage {
public:
    lib::vm::FrameRefs::Slot* allocate(size_t count) override {
        auto* slots = static_cast<lib::vm::FrameRefs::Slot*>(kmalloc(count * sizeof(lib::vm::FrameRefs::Slot)));
        if (slots) __builtin_memset(slots, 0, count * sizeof(*slots));
        return slots;
    }
    void release(lib::vm::FrameRefs::Slot* slots, size_t) override { kfree(slots); }
};
HeapSlots g_ref_slots;
lib::vm::FrameRefs g_refs(g_ref_slots);
uint64_t g_highest_ram = 0;
bool g_ram_zeroed = false;

constexpr uint64_t kBootMapLimit = 1ull << 30;

bool overlaps(uint64_t base, uint64_t length, const PhysRange& r) {
    return base < r.base + r.length && r.base < base + length;
}

// The lowest page-aligned spot of `bytes` inside RAM below the boot map limit that avoids every
// reserved range.
uint64_t find_storage(std::span<const PhysRange> ram, std::span<const PhysRange> reserved,
                      uint64_t bytes) {
    for (const PhysRange& range : ram) {
        uint64_t candidate = *lib::align_up(range.base, arch::kPageSize);
        while (candidate + bytes <= range.base + range.length && candidate + bytes <= kBootMapLimit) {
            bool clear = true;
            for (const PhysRange& r : reserved) {
                if (overlaps(candidate, bytes, r)) {
                    candidate = *lib::align_up(r.base + r.length, arch::kPageSize);
                    clear = false;
                    break;
                }
            }
            if (clear) return candidate;
        }
    }
    panic("no room below 1 GiB for the frame bitmap ({} bytes)", bytes);
}

}  // namespace

void init_frames(std::span<const PhysRange> ram, std::span<const PhysRange> reserved,
                 bool ram_zeroed) {
    g_ram_zeroed = ram_zeroed;
    static lib::vm::PhysRegion regions[64];
    size_t count = 0;
    for (const PhysRange& r : ram) {
        if (count == 64) break;
        regions[count++] = {r.base, r.length};
        if (r.base + r.length > g_highest_ram) g_highest_ram = r.base + r.length;
    }
    std::span<const lib::vm::PhysRegion> region_span(regions, count);
    uint64_t bytes = *lib::align_up(lib::vm::FrameAllocator::storage_bytes_needed(region_span),
                                    arch::kPageSize);
    uint64_t storage = find_storage(ram, reserved, bytes);
    auto initialized = g_frames.init(
        region_span, {arch::phys_to_virt<std::byte>(storage), size_t(bytes)});
    if (initialized.is_error()) panic("frame allocator: cannot initialize");
    for (const PhysRange& r : reserved) g_frames.reserve(r.base, r.length);
    g_frames.reserve(storage, bytes);
}

lib::Result<uint64_t> alloc_frame() { return g_frames.alloc(); }

lib::Result<uint64_t> alloc_zeroed_frame() {
    bool pristine = false;
    uint64_t frame = TRY(g_frames.alloc(&pristine));
    // Zeroing a page is hundreds of emulated instructions on this project's hosts.
    if (!(pristine && g_ram_zeroed)) __builtin_memset(arch::phys_to_virt(frame), 0, arch::kPageSize);
    return frame;
}

lib::Result<uint64_t> alloc_frames(size_t count) { return g_frames.alloc_contiguous(count, 1); }

lib::Result<uint64_t> alloc_zeroed_frames(size_t count) {
    bool pristine = false;
    uint64_t first = TRY(g_frames.alloc_contiguous(count, 1, &pristine));
    if (!(pristine && g_ram_zeroed))
        __builtin_memset(arch::phys_to_virt(first), 0, count * arch::kPageSize);
    return first;
}

void free_frame(uint64_t phys) {
    if (g_frames.free(phys).is_error()) panic("frame {:#x} freed twice or never owned", phys);
}

void free_frames(uint64_t phys, size_t count) {
    if (g_frames.free_contiguous(phys, count).is_error())
        panic("frames {:#x} (+{}) freed twice or never owned", phys, count);
}

lib::ErrorOr share_frame(uint64_t phys) { return g_refs.share(phys); }

void release_frame(uint64_t phys) {
    if (g_refs.tracked() == 0 || g_refs.release(phys)) free_frame(phys);
}

uint64_t frame_holders(uint64_t phys) { return g_refs.count(phys); }

uint64_t free_frame_count() { return g_frames.free_frames(); }
uint64_t total_frame_count() { return g_frames.total_frames(); }
uint64_t highest_ram_address() { return g_highest_ram; }

}  // namespace kernel::mm
