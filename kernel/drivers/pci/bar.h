// Base address registers of type 0 functions (PCI Local Bus 3.0, 6.2.5.1): decoding, sizing,
// and writing an address into one (resources.h chooses it).
#pragma once

#include <cstdint>
#include <span>

#include "kernel/drivers/pci/config.h"
#include "kernel/mm/frames.h"
#include "lib/base/result.h"

namespace kernel::drivers::pci {

inline constexpr uint8_t kBarCount = 6;

struct Bar {
    enum class Kind : uint8_t { Absent, Memory, Io };
    Kind kind = Kind::Absent;
    bool is_64bit = false;
    uint64_t address = 0;  // 0: unassigned
    uint64_t size = 0;     // a power of two
};

// BAR `index` (0..5) decoded and sized: all ones written, the mask read back, the value
// restored, with the function's decoding off meanwhile. Absent for an unimplemented BAR, the
// upper half of a 64-bit one (or a 64-bit one claimed by BAR 5), and a mask that does not
// describe a power-of-two size.
Bar read_bar(Address address, uint8_t index);

// Writes `base` (aligned to the BAR's size) into BAR `index`, keeping its flag bits, and
// reads it back: Io when the BAR does not keep it. Sets bar.address.
lib::ErrorOr place_bar(Address address, uint8_t index, Bar& bar, uint64_t base);

// Whether an assigned memory BAR is usable: inside the CPU's physical address space, not
// over RAM.
bool memory_bar_usable(const Bar& bar, std::span<const mm::PhysRange> ram);
bool overlaps_ram(uint64_t base, uint64_t size, std::span<const mm::PhysRange> ram);

// Sets `bits` (kCommandIo, kCommandMemory, kCommandBusMaster, kCommandIntxDisable) in the
// command register.
void enable(Address address, uint16_t bits);

}  // namespace kernel::drivers::pci
