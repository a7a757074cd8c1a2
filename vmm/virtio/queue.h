// The device side of a split virtqueue (virtio 1.2, section 2.7). Everything in the rings is
// written by the guest and distrusted: every descriptor is read once into a local copy, every
// buffer is checked through GuestMemory::slice, chains are bounded by the queue size, and any
// rule the driver breaks is an error the transport turns into DEVICE_NEEDS_RESET.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "lib/base/result.h"
#include "lib/virtio/ring.h"
#include "vmm/memory/guest_memory.h"

namespace vmm::virtio {

// One guest buffer of a chain, already checked to lie inside guest RAM.
struct GuestBuffer {
    uint64_t gpa;
    uint32_t len;
};

// A validated descriptor chain: its head index and its buffers, device-readable ones first
// (virtio 1.2, 2.7.4.2). The summed length of all buffers fits in a uint32_t.
struct DescriptorChain {
    uint16_t head = 0;
    std::vector<GuestBuffer> readable;
    std::vector<GuestBuffer> writable;

    uint64_t readable_bytes() const;
    uint64_t writable_bytes() const;

    // Gather: copy the readable bytes from `offset` on into `out`, as many as both allow.
    // Returns how many bytes were copied.
    lib::Result<size_t> read(const GuestMemory& memory, std::span<std::byte> out,
                             uint64_t offset = 0) const;
    // Scatter: copy `in` into the writable buffers from `offset` on, as much as they hold.
    // Returns how many bytes were copied.
    lib::Result<size_t> write(const GuestMemory& memory, std::span<const std::byte> in,
                              uint64_t offset = 0) const;
};

class Virtqueue {
public:
    // `memory` must outlive the queue. `max_size` is a power of two, at most kMaxQueueSize.
    Virtqueue(const GuestMemory& memory, uint16_t max_size);

    // Configuration, set by the transport while the queue is not ready.
    uint16_t max_size() const { return m_max_size; }
    uint16_t size() const { return m_size; }
    void set_size(uint16_t size) { m_size = size; }
    uint64_t desc_addr() const { return m_desc; }
    uint64_t avail_addr() const { return m_avail; }
    uint64_t used_addr() const { return m_used; }
    void set_desc_addr(uint64_t gpa) { m_desc = gpa; }
    void set_avail_addr(uint64_t gpa) { m_avail = gpa; }
    void set_used_addr(uint64_t gpa) { m_used = gpa; }
    // The negotiated features; only VIRTIO_F_INDIRECT_DESC and VIRTIO_F_EVENT_IDX matter here.
    void set_features(uint64_t features);

    // QueueReady = 1: check the size (a power of two, at most max_size) and the three areas
    // (aligned per 2.7.10.1, wholly inside guest RAM). On error the queue stays not ready.
    lib::ErrorOr enable();
    // QueueReady = 0: stop using the rings; configuration is kept, ring cursors restart at 0.
    void disable();
    bool ready() const { return m_ready; }

    // The next available chain, validated, or nullopt when the driver has offered nothing new
    // (or the queue is not ready). An error means the driver broke the rules: the cursor does
    // not advance and the caller must stop using the queue until a reset.
    lib::Result<std::optional<DescriptorChain>> pop();
    // Return a chain to the driver, reporting `written` bytes put in its writable buffers.
    lib::ErrorOr push_used(uint16_t head, uint32_t written);
    // Return several chains at once, publishing the used idx only after the last of them: a
    // driver running concurrently never sees part of a frame spread over merged buffers.
    lib::ErrorOr push_used_all(std::span<const lib::virtio::VirtqUsedElem> elems);
    // Whether the driver wants an interrupt for what push_used added since the previous call:
    // honours VIRTQ_AVAIL_F_NO_INTERRUPT, or used_event when VIRTIO_F_EVENT_IDX is negotiated.
    bool needs_interrupt();

    // Back to the power-on state: not ready, size = max_size, addresses and features cleared.
    void reset();

    uint16_t last_avail_idx() const { return m_last_avail; }
    uint16_t next_used_idx() const { return m_next_used; }

private:
    lib::Result<uint16_t> read_avail_idx() const;
    lib::ErrorOr publish_avail_event() const;
    lib::Result<DescriptorChain> walk_chain(uint16_t head) const;
    lib::ErrorOr walk_indirect(const lib::virtio::VirtqDesc& table, DescriptorChain& chain,
                               uint64_t& total) const;
    lib::ErrorOr add_buffer(const lib::virtio::VirtqDesc& desc, DescriptorChain& chain,
                            uint64_t& total) const;

    const GuestMemory* m_memory;
    uint16_t m_max_size;
    uint16_t m_size;
    uint64_t m_desc = 0;
    uint64_t m_avail = 0;
    uint64_t m_used = 0;
    bool m_indirect = false;
    bool m_event_idx = false;
    bool m_ready = false;
    uint16_t m_last_avail = 0;      // next avail ring entry the device will take
    uint16_t m_next_used = 0;       // the used idx the device publishes
    uint16_t m_signalled_used = 0;  // m_next_used at the previous needs_interrupt()
};

}  // namespace vmm::virtio
