// The split virtqueue's memory layout (virtio 1.2, section 2.7), shared by the kernel's drivers
// and the VMM's devices. Everything here is little-endian guest memory; x86-64 only, so plain
// integer fields. Layout only: no logic, no trust. Each side validates what the other wrote.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lib::virtio {

// Descriptor flags.
inline constexpr uint16_t kDescNext = 1;      // the chain continues at `next`
inline constexpr uint16_t kDescWrite = 2;     // device writes this buffer (else reads it)
inline constexpr uint16_t kDescIndirect = 4;  // the buffer is a table of descriptors

struct VirtqDesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
static_assert(sizeof(VirtqDesc) == 16);

// Driver area ("available ring"): flags, idx, ring[queue_size], then used_event when
// VIRTIO_F_EVENT_IDX is negotiated.
inline constexpr uint16_t kAvailNoInterrupt = 1;
struct VirtqAvailHeader {
    uint16_t flags;
    uint16_t idx;  // free-running: where the driver will put the next entry (mod queue size)
};
static_assert(sizeof(VirtqAvailHeader) == 4);

// Device area ("used ring"): flags, idx, ring[queue_size] of VirtqUsedElem, then avail_event.
inline constexpr uint16_t kUsedNoNotify = 1;
struct VirtqUsedHeader {
    uint16_t flags;
    uint16_t idx;
};
static_assert(sizeof(VirtqUsedHeader) == 4);
struct VirtqUsedElem {
    uint32_t id;   // head descriptor index of the chain
    uint32_t len;  // bytes the device wrote into the chain's writable buffers
};
static_assert(sizeof(VirtqUsedElem) == 8);

// Sizes in bytes of the three areas for a queue of `size` entries (a power of two, at most
// kMaxQueueSize), with the event-index trailer counted.
inline constexpr uint16_t kMaxQueueSize = 32768;
constexpr size_t desc_table_bytes(uint16_t size) { return size_t(size) * sizeof(VirtqDesc); }
constexpr size_t avail_ring_bytes(uint16_t size) {
    return sizeof(VirtqAvailHeader) + size_t(size) * 2 + 2;
}
constexpr size_t used_ring_bytes(uint16_t size) {
    return sizeof(VirtqUsedHeader) + size_t(size) * sizeof(VirtqUsedElem) + 2;
}
// Required alignments of the three areas (virtio 1.2, 2.7.10.1).
inline constexpr size_t kDescAlign = 16;
inline constexpr size_t kAvailAlign = 2;
inline constexpr size_t kUsedAlign = 4;

// Feature bits common to every device type.
inline constexpr unsigned kFeatureIndirectDesc = 28;
inline constexpr unsigned kFeatureEventIdx = 29;
inline constexpr unsigned kFeatureVersion1 = 32;
inline constexpr unsigned kFeatureAccessPlatform = 33;

// Device status bits (virtio 1.2, 2.1).
inline constexpr uint32_t kStatusAcknowledge = 1;
inline constexpr uint32_t kStatusDriver = 2;
inline constexpr uint32_t kStatusDriverOk = 4;
inline constexpr uint32_t kStatusFeaturesOk = 8;
inline constexpr uint32_t kStatusNeedsReset = 64;
inline constexpr uint32_t kStatusFailed = 128;

// Device IDs (virtio 1.2, 5).
inline constexpr uint32_t kDeviceNet = 1;
inline constexpr uint32_t kDeviceBlock = 2;
inline constexpr uint32_t kDeviceConsole = 3;
inline constexpr uint32_t kDeviceRng = 4;

}  // namespace lib::virtio
