// virtio-mmio devices announced on the kernel command line in Linux's syntax
// (drivers/virtio/virtio_mmio.c): `virtio_mmio.device=<size>@<baseaddr>:<irq>[:<id>]`.
// The hypervisor writes these words; they are still checked like any other outside input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "lib/base/result.h"

namespace lib::virtio {

inline constexpr std::string_view kMmioDeviceKey = "virtio_mmio.device";
inline constexpr size_t kMaxMmioDevices = 16;

struct MmioWindow {
    uint64_t base = 0;  // physical address of the register window
    uint64_t size = 0;  // bytes, never 0
    uint32_t irq = 0;
};

// One value (the text after `virtio_mmio.device=`):
//   size  `0x` hex or decimal, an optional K/M/G suffix (either case): `4K`, `512`, `0x200`
//   base  `0x` hex or decimal
//   irq   decimal; an optional `:id` (decimal) follows and is ignored
// Inval for malformed text or a zero size, Overflow when a number or base + size wraps.
Result<MmioWindow> parse_mmio_device(std::string_view value);

// Every `virtio_mmio.device=` word of a command line, in order. Bad words are counted and the
// first is kept (for one log line), not fatal: the remaining devices are still usable.
struct MmioDeviceList {
    MmioWindow windows[kMaxMmioDevices];
    size_t count = 0;
    size_t rejected = 0;              // malformed, or overlapping an earlier window
    std::string_view first_rejected;  // the first rejected value, empty when none
    Errno first_error = Errno::Inval;
    size_t dropped = 0;  // well-formed but beyond kMaxMmioDevices

    std::span<const MmioWindow> devices() const { return {windows, count}; }
};

MmioDeviceList parse_mmio_devices(std::string_view cmdline);

}  // namespace lib::virtio
