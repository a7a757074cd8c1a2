// BAR decoding and sizing, and writing an address into one.
#include "kernel/drivers/pci/bar.h"

#include "kernel/arch/x86_64/cpu.h"
#include "lib/base/checked.h"

namespace kernel::drivers::pci {

namespace {

constexpr uint32_t kBarIo = 1u << 0;
constexpr uint32_t kBarMemoryType = 3u << 1;  // 0: 32-bit, 2: 64-bit
constexpr uint32_t kBarMemory64 = 2u << 1;
constexpr uint32_t kBarMemoryFlags = 0xf;
constexpr uint32_t kBarIoFlags = 0x3;

constexpr bool is_power_of_two(uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }

uint8_t bar_offset(uint8_t index) { return uint8_t(kBar0 + 4 * index); }

// The mask a BAR reads back after all ones were written; the original value is restored.
uint32_t probe_mask(Address address, uint8_t offset, uint32_t original) {
    write32(address, offset, 0xffff'ffff);
    uint32_t mask = read32(address, offset);
    write32(address, offset, original);
    return mask;
}

// MAXPHYADDR (CPUID 0x80000008), asked once.
uint64_t physical_address_limit() {
    static uint64_t limit = 0;
    if (limit) return limit;
    uint32_t bits = 36;  // the architectural default when the leaf is missing
    if (arch::cpuid(0x8000'0000).eax >= 0x8000'0008) bits = arch::cpuid(0x8000'0008).eax & 0xff;
    if (bits < 32 || bits > 52) bits = 36;
    limit = uint64_t(1) << bits;
    return limit;
}

}  // namespace

Bar read_bar(Address address, uint8_t index) {
    Bar bar;
    if (index >= kBarCount) return bar;
    uint8_t offset = bar_offset(index);
    uint32_t low = read32(address, offset);
    bool io = low & kBarIo;
    bool is_64bit = !io && (low & kBarMemoryType) == kBarMemory64;
    if (is_64bit && index + 1 >= kBarCount) return bar;
    uint32_t high = is_64bit ? read32(address, uint8_t(offset + 4)) : 0;

    uint16_t command = read16(address, kCommand);
    write16(address, kCommand, uint16_t(command & ~(kCommandIo | kCommandMemory)));
    uint32_t low_mask = probe_mask(address, offset, low);
    uint32_t high_mask = is_64bit ? probe_mask(address, uint8_t(offset + 4), high) : 0;
    write16(address, kCommand, command);

    uint64_t size;
    if (io) {
        uint32_t bits = low_mask & ~kBarIoFlags & 0xffff;  // I/O space is 16 bits wide
        if (bits == 0) return bar;                         // not implemented
        size = (~bits & 0xffff) + 1;
    } else {
        uint32_t low_bits = low_mask & ~kBarMemoryFlags;
        if (!is_64bit && low_bits == 0) return bar;  // not implemented
        uint64_t mask = uint64_t(is_64bit ? high_mask : 0xffff'ffff) << 32 | low_bits;
        size = ~mask + 1;
    }
    if (size == 0 || !is_power_of_two(size)) return bar;
    bar.kind = io ? Bar::Kind::Io : Bar::Kind::Memory;
    bar.is_64bit = is_64bit;
    bar.size = size;
    bar.address =
        io ? (low & ~kBarIoFlags & 0xffff) : (uint64_t(high) << 32 | (low & ~kBarMemoryFlags));
    return bar;
}

lib::ErrorOr place_bar(Address address, uint8_t index, Bar& bar, uint64_t base) {
    if (bar.kind == Bar::Kind::Absent || index >= kBarCount) return lib::Errno::Inval;
    bool io = bar.kind == Bar::Kind::Io;
    if (!bar.is_64bit && base > 0xffff'ffff) return lib::Errno::Inval;
    uint8_t offset = bar_offset(index);
    uint32_t flags_mask = io ? kBarIoFlags : kBarMemoryFlags;
    uint32_t flags = read32(address, offset) & flags_mask;
    write32(address, offset, uint32_t(base) | flags);
    if (bar.is_64bit) write32(address, uint8_t(offset + 4), uint32_t(base >> 32));
    uint64_t placed = read32(address, offset) & ~flags_mask;
    if (io) placed &= 0xffff;
    if (bar.is_64bit) placed |= uint64_t(read32(address, uint8_t(offset + 4))) << 32;
    if (placed != base) return lib::Errno::Io;  // the BAR did not keep it
    bar.address = base;
    return {};
}

bool memory_bar_usable(const Bar& bar, std::span<const mm::PhysRange> ram) {
    if (bar.kind != Bar::Kind::Memory || bar.address == 0) return false;
    auto end = lib::checked_add(bar.address, bar.size);
    return end && *end <= physical_address_limit() && !overlaps_ram(bar.address, bar.size, ram);
}

bool overlaps_ram(uint64_t base, uint64_t size, std::span<const mm::PhysRange> ram) {
    for (const mm::PhysRange& range : ram)
        if (base < range.base + range.length && range.base < base + size) return true;
    return false;
}

void enable(Address address, uint16_t bits) {
    write16(address, kCommand, uint16_t(read16(address, kCommand) | bits));
}

}  // namespace kernel::drivers::pci
