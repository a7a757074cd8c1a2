// virtio-blk requests (5.2.6): a 16-byte header the driver wrote, data buffers, and a status
// byte at the very end of the writable buffers.
#include "vmm/virtio/blk.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lib/virtio/ring.h"

namespace vmm::virtio {

namespace {

constexpr uint32_t kTypeIn = 0, kTypeOut = 1, kTypeFlush = 4, kTypeGetId = 8;
constexpr uint8_t kStatusOk = 0, kStatusIoErr = 1, kStatusUnsupported = 2;
constexpr size_t kIdBytes = 20;

struct RequestHeader {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};
static_assert(sizeof(RequestHeader) == 16);

}  // namespace

VirtioBlk::VirtioBlk(const GuestMemory& memory, int fd, uint64_t size)
    : m_memory(&memory), m_fd(fd), m_sectors(size / kSectorSize) {}

uint32_t VirtioBlk::device_id() const { return lib::virtio::kDeviceBlock; }

uint64_t VirtioBlk::device_features() const {
    return uint64_t(1) << kFeatureReadOnly | uint64_t(1) << kFeatureSegMax | uint64_t(1) << kFeatureFlush;
}

// 5.2.4: capacity (le64, sectors), size_max (le32), seg_max (le32).
void VirtioBlk::read_config(uint64_t offset, std::span<std::byte> data) const {
    std::byte config[16] = {};
    std::memcpy(config, &m_sectors, 8);
    uint32_t seg_max = kSegMax;
    std::memcpy(config + 12, &seg_max, 4);
    copy_config(config, offset, data);
}

lib::Result<bool> VirtioBlk::queue_notify(uint16_t q, Virtqueue& queue) {
    if (q != 0) return false;
    bool used = false;
    while (auto chain = TRY(queue.pop())) {
        TRY(queue.push_used(chain->head, serve(*chain)));
        used = true;
    }
    return used;
}

uint32_t VirtioBlk::serve(const DescriptorChain& chain) {
    // 5.2.6.1: at least the header readable and the status byte writable. A chain without a
    // writable byte cannot even be told it failed: it is returned with nothing written.
    uint64_t writable = chain.writable_bytes();
    if (writable == 0) return 0;
    RequestHeader header{};
    auto got = chain.read(*m_memory, std::as_writable_bytes(std::span(&header, 1)));
    uint64_t data_bytes = writable - 1;
    uint8_t status = kStatusIoErr;
    if (got.is_error() || got.value() < sizeof(header)) {
        status = kStatusIoErr;
    } else if (header.type == kTypeIn) {
        bool in_range = data_bytes % kSectorSize == 0 && header.sector <= m_sectors &&
                        data_bytes / kSectorSize <= m_sectors - header.sector;
        status = in_range && read_into(chain, header.sector * kSectorSize, data_bytes) ? kStatusOk : kStatusIoErr;
    } else if (header.type == kTypeOut) {
        status = kStatusIoErr;  // read-only: the driver was told with VIRTIO_BLK_F_RO
        data_bytes = 0;
    } else if (header.type == kTypeFlush) {
        status = kStatusOk;
        data_bytes = 0;
    } else if (header.type == kTypeGetId) {
        char id[kIdBytes] = "phoenix-disk";
        size_t n = data_bytes < kIdBytes ? size_t(data_bytes) : kIdBytes;
        auto wrote = chain.write(*m_memory, std::as_bytes(std::span(id, n)));
        status = wrote.is_error() ? kStatusIoErr : kStatusOk;
        data_bytes = wrote.is_error() ? 0 : wrote.value();
    } else {
        status = kStatusUnsupported;
        data_bytes = 0;
    }
    auto wrote = chain.write(*m_memory, std::as_bytes(std::span(&status, 1)), writable - 1);
    if (wrote.is_error()) return 0;
    return uint32_t(data_bytes + 1);
}

bool VirtioBlk::read_into(const DescriptorChain& chain, uint64_t offset, uint64_t length) {
    uint64_t done = 0;
    for (const GuestBuffer& buffer : chain.writable) {
        if (done == length) break;
        uint64_t take = std::min<uint64_t>(buffer.len, length - done);
        auto target = m_memory->slice(buffer.gpa, take);
        if (target.is_error()) return false;
        uint64_t filled = 0;
        while (filled < take) {
            ssize_t n = pread(m_fd, target.value().data() + filled, take - filled, off_t(offset + done + filled));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;  // a short image: never hand out stale bytes as data
            filled += uint64_t(n);
        }
        done += take;
    }
    return done == length;
}

}  // namespace vmm::virtio
