// virtio-rng: each chain's writable buffers get up to kMaxRequestBytes random bytes.
#include "vmm/virtio/rng.h"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>

#include "lib/virtio/ring.h"

namespace vmm::virtio {

VirtioRng::VirtioRng(const GuestMemory& memory) : m_memory(&memory) {}

uint32_t VirtioRng::device_id() const { return lib::virtio::kDeviceRng; }

lib::ErrorOr VirtioRng::activate(uint64_t) { return {}; }

lib::Result<bool> VirtioRng::queue_notify(uint16_t q, Virtqueue& queue) {
    if (q != 0) return false;
    bool used = false;
    // Bounded by the ring: pop() refuses an avail idx more than a ring's worth ahead.
    while (auto chain = TRY(queue.pop())) {
        TRY(queue.push_used(chain->head, uint32_t(fill(*chain))));
        used = true;
    }
    return used;
}

// 5.4.6.1: the driver offers only writable buffers. A chain with readable ones is still
// returned (with nothing written) so that a sloppy driver does not leak its buffers.
size_t VirtioRng::fill(const DescriptorChain& chain) {
    if (!chain.readable.empty()) return 0;
    size_t want = size_t(std::min<uint64_t>(chain.writable_bytes(), kMaxRequestBytes));
    m_scratch.resize(want);
    size_t got = 0;
    while (got < want) {
        ssize_t n = getrandom(m_scratch.data() + got, want - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // the host cannot give more now: hand over what we have
        got += size_t(n);
    }
    auto written = chain.write(*m_memory, std::span<const std::byte>(m_scratch.data(), got));
    return written.is_error() ? 0 : written.value();
}

}  // namespace vmm::virtio
