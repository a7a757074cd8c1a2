// Ext2Inode: one lib::fs::ext2 inode behind the VFS interface, read-only (the Inode defaults
// refuse every change with EROFS; the overlay above makes the root writable).
#include "kernel/fs/ext2_inode.h"

#include "kernel/arch/x86_64/layout.h"
#include "kernel/mm/frames.h"
#include "kernel/mm/heap.h"
#include "kernel/sys/linux_types.h"

namespace kernel::fs {

namespace {

constexpr uint64_t kExt2Magic = 0xef53;  // EXT2_SUPER_MAGIC
constexpr uint64_t kStReadOnly = 0x1, kStValid = 0x20;

// Shared by every inode of the mount.
struct Mount {
    PartitionDevice* device;
    lib::fs::ext2::Volume volume;
    uint64_t zero_page = 0;  // for holes in mapped files
};

Mount* g_mount = nullptr;

class Ext2Inode final : public Inode {
public:
    Ext2Inode(Mount& mount, const lib::fs::ext2::InodeInfo& info) : m_mount(&mount), m_info(info) {}

    uint32_t mode() const override { return m_info.mode; }
    uint64_t size() const override { return m_info.size; }
    uint64_t ino() const override { return m_info.ino; }
    const void* filesystem() const override { return m_mount; }

    lib::Result<FsStats> statfs() const override {
        const auto& volume = m_mount->volume;
        FsStats stats{};
        stats.type = kExt2Magic;
        stats.block_size = volume.block_size();
        stats.blocks = volume.blocks_count();
        stats.files = volume.inodes_count();
        stats.flags = kStValid | kStReadOnly;
        return stats;
    }

    lib::ErrorOr stat(sys::LinuxStat& out) const override {
        out = {};
        out.dev = 0x801;  // like /dev/sda1
        out.ino = m_info.ino;
        out.nlink = m_info.links;
        out.mode = m_info.mode;
        out.uid = m_info.uid;
        out.gid = m_info.gid;
        out.rdev = m_info.rdev;
        out.size = int64_t(m_info.size);
        out.blksize = m_mount->volume.block_size();
        out.blocks = int64_t(m_info.blocks_512);
        out.atime = m_info.atime;
        out.mtime = m_info.mtime;
        out.ctime = m_info.ctime;
        return {};
    }

    lib::Result<Inode*> lookup(std::string_view name) override {
        if (!is_directory()) return lib::Errno::NotDir;
        uint32_t ino = TRY(m_mount->volume.lookup(m_info.ino, name));
        return make(*m_mount, ino);
    }

    lib::Result<size_t> read(uint64_t offset, std::span<std::byte> out) override {
        if (is_directory()) return lib::Errno::IsDir;
        if (!is_regular()) return lib::Errno::Inval;
        return m_mount->volume.read(m_info.ino, offset, out);
    }

    lib::Result<size_t> read_link(std::span<char> out) override {
        return m_mount->volume.read_link(m_info.ino, out);
    }

    lib::Result<bool> next_entry(uint64_t& cookie, DirEntry& out) override {
        if (!is_directory()) return lib::Errno::NotDir;
        lib::fs::ext2::DirEntry entry;
        if (!TRY(m_mount->volume.next_entry(m_info.ino, cookie, entry))) return false;
        out.ino = entry.ino;
        out.type = entry.type;
        out.name_length = entry.name_length;
        __builtin_memcpy(out.name, entry.name, size_t(entry.name_length) + 1);
        return true;
    }

    lib::Result<uint64_t> cached_page(uint64_t index) override {
        if (!is_regular() || m_mount->volume.block_size() != arch::kPageSize)
            return lib::Errno::OpNotSupp;
        if (index * arch::kPageSize >= m_info.size) return m_mount->zero_page;
        // The block map a window at a time: the reader loads the inode once per window.
        if (!m_window || index < m_window_first || index >= m_window_first + m_window_count) {
            if (!m_window) {
                m_window = static_cast<uint64_t*>(mm::kmalloc(kWindow * sizeof(uint64_t)));
                if (!m_window) return lib::Errno::NoMem;
            }
            m_window_first = index - index % kWindow;
            m_window_count = 0;  // a failed fill leaves nothing stale behind
            m_window_count =
                TRY(m_mount->volume.block_offsets(m_info.ino, m_window_first, {m_window, kWindow}));
            if (index >= m_window_first + m_window_count) return lib::Errno::Io;
        }
        uint64_t offset = m_window[index - m_window_first];
        if (offset == 0) return m_mount->zero_page;  // a hole
        return m_mount->device->cache().page((m_mount->device->offset() + offset) /
                                             arch::kPageSize);
    }

    ~Ext2Inode() override { mm::kfree(m_window); }

    static lib::Result<Inode*> make(Mount& mount, uint32_t ino) {
        auto info = TRY(mount.volume.stat(ino));
        auto* inode = mm::try_make<Ext2Inode>(mount, info);
        if (!inode) return lib::Errno::NoMem;
        return static_cast<Inode*>(inode);
    }

private:
    static constexpr size_t kWindow = 128;  // blocks of the map kept: 512 KiB of the file

    Mount* m_mount;
    lib::fs::ext2::InodeInfo m_info;
    uint64_t* m_window = nullptr;
    uint64_t m_window_first = 0;
    size_t m_window_count = 0;
};

}  // namespace

lib::Result<Inode*> open_ext2_root(PartitionDevice& device, const lib::fs::ext2::Volume& volume) {
    if (device.offset() % arch::kPageSize) return lib::Errno::Inval;  // pages must line up
    uint64_t zero = TRY(mm::alloc_zeroed_frame());
    g_mount = mm::try_make<Mount>(Mount{&device, volume, zero});
    if (!g_mount) return lib::Errno::NoMem;
    return Ext2Inode::make(*g_mount, lib::fs::ext2::Volume::kRootIno);
}

}  // namespace kernel::fs
