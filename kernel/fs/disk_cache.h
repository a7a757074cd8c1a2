// The root disk's page cache: 4 KiB pages read on first use, a 64 KiB cluster per device
// request (the device moves the bytes by DMA; the emulated ring 0 pays per request, not per
// byte), and kept for the life of the VM: the disk is read-only and a VM is reborn often, so
// the cache only ever holds what this boot read. Its frames double as the pages of read-only
// file mappings (ld.so's text, the program's), which therefore cost no copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "kernel/drivers/virtio/blk.h"
#include "lib/base/result.h"
#include "lib/fs/ext2/volume.h"

namespace kernel::fs {

class DiskCache {
public:
    static constexpr uint64_t kClusterPages = 16;

    lib::ErrorOr init(drivers::virtio::BlockDisk& disk);
    uint64_t size() const { return m_pages * 4096; }
    // The physical frame holding disk bytes [index * 4096, +4096): cache-owned, never freed.
    lib::Result<uint64_t> page(uint64_t index);
    // Copies disk bytes [offset, offset + out.size()) (Io past the end or on device failure).
    lib::ErrorOr read(uint64_t offset, std::span<std::byte> out);

private:
    uint64_t* slot(uint64_t index);  // nullptr when the radix leaf cannot be allocated
    lib::ErrorOr fill(uint64_t index);

    drivers::virtio::BlockDisk* m_disk = nullptr;
    uint64_t m_pages = 0;
    uint64_t** m_leaves = nullptr;  // 512 frame addresses per leaf; 0: not read yet
    size_t m_leaf_count = 0;
};

// A window [offset, offset + size) of the cache: the root partition, as the ext2 reader sees it.
class PartitionDevice final : public lib::fs::ext2::BlockDevice {
public:
    PartitionDevice(DiskCache& cache, uint64_t offset, uint64_t size)
        : m_cache(&cache), m_offset(offset), m_size(size) {}
    lib::ErrorOr read(uint64_t offset, std::span<std::byte> out) override;
    uint64_t size() const override { return m_size; }
    uint64_t offset() const { return m_offset; }
    DiskCache& cache() { return *m_cache; }

private:
    DiskCache* m_cache;
    uint64_t m_offset;
    uint64_t m_size;
};

// The first Linux (type 0x83) partition of the MBR at disk offset 0: [offset, size) in bytes.
// NoEnt without a valid MBR or such a partition; Io when it lies past the disk.
struct Partition {
    uint64_t offset;
    uint64_t size;
};
lib::Result<Partition> find_linux_partition(DiskCache& cache);

}  // namespace kernel::fs
