// virtio-blk (virtio 1.2, 5.2): the disk the root filesystem comes from. Requests are polled
// to completion, one at a time; data moves by the device's DMA straight into the caller's
// (physically contiguous) memory, so a read costs the kernel a handful of descriptor writes
// whatever its size.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lib/base/result.h"

namespace kernel::drivers::virtio {

class BlockDisk {
public:
    static constexpr uint32_t kSectorSize = 512;

    virtual uint64_t capacity_bytes() const = 0;
    virtual bool read_only() const = 0;
    // Reads [offset, offset + length) (multiples of kSectorSize, within the capacity) into
    // `buffer`, which must be physmap memory (frames or the heap). Errno::Io when the device
    // reports an error, breaks the queue or times out (the disk is then abandoned).
    virtual lib::ErrorOr read(uint64_t offset, void* buffer, size_t length) = 0;

protected:
    ~BlockDisk() = default;
};

// The first virtio-blk device found (virtio-mmio, then virtio-pci), started; nullptr when
// there is none or it cannot be started (logged).
BlockDisk* init_blk();

}  // namespace kernel::drivers::virtio
