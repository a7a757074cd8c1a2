// What the vCPU loop needs from a memory-mapped device: byte-granular reads and writes at an
// offset inside the device's window. Accesses come straight from the guest: any offset and
// size (1, 2, 4 or 8 bytes) may arrive, and the device must answer without trusting them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace vmm {

class MmioDevice {
public:
    virtual ~MmioDevice() = default;
    // Fill `data` (1..8 bytes) with the value at `offset`; unknown registers read as zero.
    virtual void mmio_read(uint64_t offset, std::span<std::byte> data) = 0;
    // Unknown registers and wrong-sized writes are ignored.
    virtual void mmio_write(uint64_t offset, std::span<const std::byte> data) = 0;
};

// An interrupt line a device drives (level-triggered: virtio-mmio keeps it high while
// InterruptStatus is non-zero).
class IrqLine {
public:
    virtual ~IrqLine() = default;
    virtual void set_level(bool high) = 0;
};

}  // namespace vmm
