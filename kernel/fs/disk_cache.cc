#include "kernel/fs/disk_cache.h"

#include "kernel/arch/x86_64/layout.h"
#include "kernel/mm/frames.h"
#include "kernel/mm/heap.h"
#include "lib/base/checked.h"

namespace kernel::fs {

namespace {

constexpr uint64_t kPage = arch::kPageSize;
constexpr uint64_t kLeafEntries = kPage / sizeof(uint64_t);

}  // namespace

lib::ErrorOr DiskCache::init(drivers::virtio::BlockDisk& disk) {
    m_disk = &disk;
    m_pages = disk.capacity_bytes() / kPage;  // a partial last page is never read
    m_leaf_count = size_t((m_pages + kLeafEntries - 1) / kLeafEntries);
    m_leaves = static_cast<uint64_t**>(mm::kmalloc(m_leaf_count * sizeof(uint64_t*) + 1));
    if (!m_leaves) return lib::Errno::NoMem;
    for (size_t i = 0; i < m_leaf_count; ++i) m_leaves[i] = nullptr;
    return {};
}

uint64_t* DiskCache::slot(uint64_t index) {
    uint64_t*& leaf = m_leaves[index / kLeafEntries];
    if (!leaf) {
        auto frame = mm::alloc_zeroed_frame();
        if (frame.is_error()) return nullptr;
        leaf = arch::phys_to_virt<uint64_t>(frame.value());
    }
    return &leaf[index % kLeafEntries];
}

lib::ErrorOr DiskCache::fill(uint64_t index) {
    uint64_t first = index - index % kClusterPages;
    uint64_t count = m_pages - first < kClusterPages ? m_pages - first : kClusterPages;
    uint64_t frames = TRY(mm::alloc_frames(count));
    if (auto read = m_disk->read(first * kPage, arch::phys_to_virt(frames), count * kPage); read.is_error()) {
        mm::free_frames(frames, count);
        return read.error();
    }
    for (uint64_t i = 0; i < count; ++i) {
        uint64_t* entry = slot(first + i);
        if (!entry) return lib::Errno::NoMem;  // the frames read so far stay cached
        if (*entry)
            mm::free_frame(frames + i * kPage);  // already cached: keep the one in use
        else
            *entry = frames + i * kPage;
    }
    return {};
}

lib::Result<uint64_t> DiskCache::page(uint64_t index) {
    if (index >= m_pages) return lib::Errno::Io;
    uint64_t* entry = slot(index);
    if (!entry) return lib::Errno::NoMem;
    if (!*entry) TRY(fill(index));
    return *entry;
}

lib::ErrorOr DiskCache::read(uint64_t offset, std::span<std::byte> out) {
    auto end = lib::checked_add(offset, out.size());
    if (!end || *end > size()) return lib::Errno::Io;
    size_t done = 0;
    while (done < out.size()) {
        uint64_t at = offset + done;
        uint64_t frame = TRY(page(at / kPage));
        size_t within = size_t(at % kPage);
        size_t chunk = kPage - within < out.size() - done ? kPage - within : out.size() - done;
        __builtin_memcpy(out.data() + done, arch::phys_to_virt<std::byte>(frame) + within, chunk);
        done += chunk;
    }
    return {};
}

lib::ErrorOr PartitionDevice::read(uint64_t offset, std::span<std::byte> out) {
    auto end = lib::checked_add(offset, out.size());
    if (!end || *end > m_size) return lib::Errno::Io;
    return m_cache->read(m_offset + offset, out);
}

lib::Result<Partition> find_linux_partition(DiskCache& cache) {
    uint8_t mbr[512];
    TRY(cache.read(0, std::as_writable_bytes(std::span(mbr))));
    if (mbr[510] != 0x55 || mbr[511] != 0xaa) return lib::Errno::NoEnt;
    for (int i = 0; i < 4; ++i) {
        const uint8_t* entry = mbr + 446 + 16 * i;
        if (entry[4] != 0x83) continue;
        uint32_t first = uint32_t(entry[8]) | uint32_t(entry[9]) << 8 | uint32_t(entry[10]) << 16 |
                         uint32_t(entry[11]) << 24;
        uint32_t count = uint32_t(entry[12]) | uint32_t(entry[13]) << 8 | uint32_t(entry[14]) << 16 |
                         uint32_t(entry[15]) << 24;
        uint64_t offset = uint64_t(first) * 512, size = uint64_t(count) * 512;
        if (offset == 0 || offset > cache.size() || size > cache.size() - offset) return lib::Errno::Io;
        return Partition{offset, size};
    }
    return lib::Errno::NoEnt;
}

}  // namespace kernel::fs
