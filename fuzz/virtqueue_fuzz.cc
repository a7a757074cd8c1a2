// Fuzzes vmm/virtio/queue: the input is a small header and then a guest RAM image holding the
// rings and descriptors. The queue is enabled at the given places and chains are popped,
// gathered, scattered and pushed back until the driver's ring is empty or refused. ASan/UBSan
// catch any access outside the exactly-sized RAM buffer; FUZZ_CHECK catches a chain that broke
// the queue's own promises.
//
// Header (8 bytes): [0] log2 of the queue size (mod 9, so 1..256 entries)
//                   [1] bit 0: INDIRECT_DESC, bit 1: EVENT_IDX, bit 2: RAM near the top of
//                       the address space (so addresses + lengths wrap)
//                   [2..7] desc, avail, used offsets into RAM (u16 LE each)
// The rest is the RAM image (at least one byte).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "lib/virtio/ring.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/virtio/queue.h"

namespace {

#define FUZZ_CHECK(condition)      \
    do {                           \
        if (!(condition)) abort(); \
    } while (0)

constexpr size_t kHeader = 8;
constexpr size_t kMaxRam = 1 << 20;
constexpr size_t kMaxCopy = 4096;

uint16_t u16_at(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }

void check_chain(const vmm::GuestMemory& memory, const vmm::virtio::DescriptorChain& chain,
                 uint16_t size) {
    FUZZ_CHECK(chain.head < size);
    FUZZ_CHECK(chain.readable.size() + chain.writable.size() <= 2 * size_t(size));
    FUZZ_CHECK(chain.readable_bytes() + chain.writable_bytes() <= UINT32_MAX);
    for (const auto* list : {&chain.readable, &chain.writable})
        for (const auto& buffer : *list)
            FUZZ_CHECK(!memory.slice(buffer.gpa, buffer.len).is_error());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size <= kHeader || size - kHeader > kMaxRam) return 0;
    uint16_t queue_size = uint16_t(1u << (data[0] % 9));
    uint8_t flags = data[1];
    uint64_t base = (flags & 4) ? 0xffff'ffff'fff0'0000 : 0x1000;

    std::vector<std::byte> ram(size - kHeader);
    std::memcpy(ram.data(), data + kHeader, ram.size());
    vmm::GuestMemory memory({{base, ram.size(), ram.data()}});

    vmm::virtio::Virtqueue queue(memory, lib::virtio::kMaxQueueSize);
    queue.set_size(queue_size);
    queue.set_desc_addr(base + u16_at(data + 2));
    queue.set_avail_addr(base + u16_at(data + 4));
    queue.set_used_addr(base + u16_at(data + 6));
    uint64_t features = 0;
    if (flags & 1) features |= uint64_t(1) << lib::virtio::kFeatureIndirectDesc;
    if (flags & 2) features |= uint64_t(1) << lib::virtio::kFeatureEventIdx;
    queue.set_features(features);
    if (queue.enable().is_error()) return 0;

    std::vector<std::byte> scratch(kMaxCopy);
    // Scatter writes may land on the rings themselves, so the driver's idx can keep moving:
    // bound the rounds rather than trusting the ring to drain.
    for (uint32_t round = 0; round < 4u * queue_size + 4; ++round) {
        auto popped = queue.pop();
        if (popped.is_error() || !popped.value()) break;
        const auto& chain = *popped.value();
        check_chain(memory, chain, queue_size);

        size_t want = size_t(std::min<uint64_t>(chain.readable_bytes(), kMaxCopy));
        auto got = chain.read(memory, std::span(scratch).first(want));
        FUZZ_CHECK(!got.is_error() && got.value() == want);
        want = size_t(std::min<uint64_t>(chain.writable_bytes(), kMaxCopy));
        std::fill_n(scratch.begin(), want, std::byte{0xa5});
        auto put = chain.write(memory, std::span(scratch).first(want), round % 3);
        FUZZ_CHECK(!put.is_error() && put.value() <= want);

        FUZZ_CHECK(!queue.push_used(chain.head, uint32_t(put.value())).is_error());
        (void)queue.needs_interrupt();
    }
    return 0;
}
