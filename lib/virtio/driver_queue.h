// The driver side of a split virtqueue (virtio 1.2, 2.7) over memory the caller provides.
// The device is not trusted: everything it writes to the used ring is checked against the
// driver's own bookkeeping, which lives here, never in memory the device can reach. The first
// lie breaks the queue for good (Errno::Io); the driver should then give up on the device.
// No VIRTIO_F_EVENT_IDX, no indirect descriptors: notifications follow the used ring's flags.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "lib/base/result.h"
#include "lib/virtio/ring.h"

namespace lib::virtio {

// How the driver names its memory to the device: the kernel translates physmap addresses to
// physical ones; tests use an offset.
class DmaTranslator {
public:
    // The device's address for [data, data + length), which must be contiguous for the
    // device. Errno::Fault for memory a device cannot be given.
    virtual Result<uint64_t> device_address(const void* data, size_t length) const = 0;

protected:
    ~DmaTranslator() = default;
};

// One buffer of a chain. The device reads it, or writes it when device_writable; a chain lists
// its readable buffers before its writable ones (2.7.4.2).
struct DriverBuffer {
    const void* data;
    uint32_t length;
    bool device_writable;
};

struct UsedBuffer {
    uint16_t id;      // the head descriptor add() returned
    uint32_t length;  // bytes the device wrote, at most the chain's writable length
};

// Where the three areas of a queue sit in its ring memory.
enum class RingLayout : uint8_t {
    // virtio 1.x (2.7.10.1): the areas one after another, each aligned as it requires.
    Modern,
    // 2.7.2 "Legacy Interfaces": one block aligned to kLegacyAlign, the device area at the
    // first kLegacyAlign boundary after the driver area, as legacy virtio-pci's single queue
    // address (a page number) implies.
    Legacy,
};

class DriverQueue {
public:
    static constexpr uint16_t kMaxSize = 256;
    static constexpr size_t kRingAlign = kDescAlign;
    static constexpr size_t kLegacyAlign = 4096;

    // Bytes of ring memory a queue of `size` entries needs in `layout` (for Legacy, the
    // spec's total with both parts rounded up to kLegacyAlign). 0 for an invalid size.
    static size_t ring_bytes(uint16_t size, RingLayout layout = RingLayout::Modern);

    // size: a power of two in [1, kMaxSize]. ring: at least ring_bytes(size, layout) bytes,
    // aligned to kRingAlign (Legacy: kLegacyAlign, its device address too), reserved for this
    // queue until it is reset; init() zeroes it. `dma` must outlive the queue.
    ErrorOr init(uint16_t size, std::span<std::byte> ring, const DmaTranslator& dma,
                 RingLayout layout = RingLayout::Modern);

    uint16_t size() const { return m_size; }
    // Device addresses of the three areas, for the transport's queue registers.
    uint64_t desc_address() const { return m_ring_address; }
    uint64_t driver_address() const { return m_ring_address + m_avail_offset; }
    uint64_t device_address() const { return m_ring_address + m_used_offset; }

    // Makes a chain of `buffers` available to the device; returns its head id. Inval for an
    // empty chain, a zero-length buffer, readable after writable or writable bytes past
    // UINT32_MAX; NoSpc when too few descriptors are free; the translator's error as is.
    // Nothing changes on error.
    Result<uint16_t> add(std::span<const DriverBuffer> buffers);

    // Whether the device wants a notification for the chains added since the last call
    // (2.7.13.3: it clears the wish with VIRTQ_USED_F_NO_NOTIFY). Call once per batch.
    bool needs_notify();

    // The next chain the device returned, after checking it (2.7.8): the used index may only
    // advance over chains in flight, the id must be the head of one, the length must fit its
    // writable buffers. nullopt when nothing new is there; Io once the device has lied.
    Result<std::optional<UsedBuffer>> poll_used();

    // Asks the device not to interrupt for used buffers (2.7.7), for drivers that poll.
    void suppress_interrupts(bool suppress);

    uint16_t free_count() const { return m_free_count; }
    uint16_t in_flight() const { return m_in_flight_count; }
    bool broken() const { return m_broken; }

private:
    VirtqDesc* descriptors() const;
    VirtqAvailHeader* avail() const;
    uint16_t* avail_ring() const;
    VirtqUsedHeader* used() const;
    VirtqUsedElem* used_ring() const;
    Result<std::optional<UsedBuffer>> device_lied();
    void free_chain(uint16_t head);

    std::byte* m_ring = nullptr;
    uint64_t m_ring_address = 0;
    size_t m_avail_offset = 0;
    size_t m_used_offset = 0;
    const DmaTranslator* m_dma = nullptr;
    uint16_t m_size = 0;

    uint16_t m_avail_idx = 0;   // the next avail->idx to publish
    uint16_t m_last_used = 0;   // the used->idx up to which chains were taken back
    uint16_t m_unnotified = 0;  // chains added since needs_notify() last said yes or no
    uint16_t m_free_head = 0;
    uint16_t m_free_count = 0;
    uint16_t m_in_flight_count = 0;
    bool m_broken = false;

    // Driver-private, per descriptor: the free list's link for free descriptors, the chain's
    // link for busy ones (a chain is taken as a prefix of the free list, so both agree).
    uint16_t m_next[kMaxSize] = {};
    // Per head of a chain in flight: its descriptor count and writable bytes.
    uint16_t m_chain_length[kMaxSize] = {};
    uint32_t m_writable_bytes[kMaxSize] = {};
    bool m_is_head[kMaxSize] = {};
};

}  // namespace lib::virtio
