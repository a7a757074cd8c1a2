// Physical page frames for the whole kernel: one allocator (lib/vm/frame_allocator.h) over
// the RAM the boot memory map reports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/base/result.h"

namespace kernel::mm {

struct PhysRange {
    uint64_t base;
    uint64_t length;
};

// ram: usable RAM from the boot memory map. reserved: what is already in use (kernel image,
// boot data, modules). The allocator's own bitmap is carved from RAM here. `ram_zeroed`: the
// hypervisor promises every byte of RAM outside `reserved` reads as zero at boot
// (`phx.ram=zeroed`, docs/boot-protocol.md), so frames never freed need no zeroing.
void init_frames(std::span<const PhysRange> ram, std::span<const PhysRange> reserved,
                 bool ram_zeroed);

lib::Result<uint64_t> alloc_frame();
// A frame filled with zeros (zeroed here unless it is pristine RAM known to be zero).
lib::Result<uint64_t> alloc_zeroed_frame();
lib::Result<uint64_t> alloc_frames(size_t count);
// `count` contiguous frames filled with zeros.
lib::Result<uint64_t> alloc_zeroed_frames(size_t count);
void free_frame(uint64_t phys);
void free_frames(uint64_t phys, size_t count);

// Frames with several holders (lib/vm/frame_refs.h): a file's page lent to mappings. share
// adds a holder (NoMem when the count table cannot grow); release drops one and frees the
// frame when it was the last. A frame never shared has one holder: release frees it.
lib::ErrorOr share_frame(uint64_t phys);
void release_frame(uint64_t phys);
uint64_t frame_holders(uint64_t phys);

uint64_t free_frame_count();
uint64_t total_frame_count();
// The end of the highest RAM range (for sizing the physmap).
uint64_t highest_ram_address();

}  // namespace kernel::mm
