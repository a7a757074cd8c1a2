// Ext2Inode: one lib::fs::ext2 inode behind the VFS interface, read-only (the Inode defaults
// refuse every change with EROFS; the overlay above makes the root writable).
#include "kernel/fs/ext2_inode.h"

#include <optional>

#include "kernel/arch/x86_64/layout.h"
#include "kernel/mm/frames.h"
#include "kernel/mm/heap.h"
#include "kernel/sys/linux_types.h"

namespace kernel::fs {

namespace {

constexpr uint64_t kExt2Magic = 0xef53;  // EXT2_SUPER_MAGIC
constexpr uint64_t kStReadOnly = 0x1, kStValid = 0x20;

class Ext2Inode;

// The image never changes while the VM runs, so what was looked up once stays true: every
// inode object is kept (with its block-map and page caches) and every directory lookup,
// found or not (ld.so probes many paths that do not exist), is remembered. Both tables are
// open-addressed and grow at half load; they only hold what this boot asked for.
class InodeTable {
public:
    Ext2Inode* find(uint32_t ino) const;
    void insert(uint32_t ino, Ext2Inode* inode);  // keeps a reference

private:
    struct Slot {
        uint32_t ino;
        Ext2Inode* inode;
    };
    Slot* m_slots = nullptr;
    size_t m_capacity = 0, m_count = 0;
};

class DentryTable {
public:
    // The child's inode number (0: known absent), or nullopt when never looked up.
    std::optional<uint32_t> find(uint32_t dir, std::string_view name) const;
    void insert(uint32_t dir, std::string_view name, uint32_t ino);

private:
    struct Slot {
        uint64_t hash;
        uint32_t dir;
        uint32_t ino;
        char* name;  // heap copy, NUL-terminated; nullptr: empty slot
        uint8_t length;
    };
    static uint64_t hash_of(uint32_t dir, std::string_view name);
    Slot* m_slots = nullptr;
    size_t m_capacity = 0, m_count = 0;
};

// Shared by every inode of the mount.
struct Mount {
    PartitionDevice* device;
    lib::fs::ext2::Volume volume;
    uint64_t zero_page = 0;  // for holes in mapped files
    InodeTable inodes;
    DentryTable dentries;
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
        uint32_t ino;
        if (auto known = m_mount->dentries.find(m_info.ino, name)) {
            ino = *known;
        } else {
            auto found = m_mount->volume.lookup(m_info.ino, name);
            if (found.is_error() && found.error() != lib::Errno::NoEnt) return found.error();
            ino = found.is_error() ? 0 : found.value();
            m_mount->dentries.insert(m_info.ino, name, ino);
        }
        if (ino == 0) return lib::Errno::NoEnt;
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
        if (!m_frames) TRY(allocate_maps());
        if (m_frames[index]) return m_frames[index];
        // The block map a window at a time: the reader loads the inode once per window.
        if (m_offsets[index] == kUnknown) {
            uint64_t first = index - index % kWindow;
            uint64_t count = m_pages - first < kWindow ? m_pages - first : kWindow;
            size_t filled = TRY(m_mount->volume.block_offsets(m_info.ino, first, {m_offsets + first, count}));
            if (index >= first + filled) {
                for (uint64_t i = first; i < first + count; ++i) m_offsets[i] = kUnknown;
                return lib::Errno::Io;
            }
        }
        uint64_t offset = m_offsets[index];
        uint64_t frame = offset == 0 ? m_mount->zero_page  // a hole
                                     : TRY(m_mount->device->cache().page((m_mount->device->offset() + offset) /
                                                                         arch::kPageSize));
        m_frames[index] = frame;
        return frame;
    }

    ~Ext2Inode() override {
        mm::kfree(m_offsets);
        mm::kfree(m_frames);
    }

    static lib::Result<Inode*> make(Mount& mount, uint32_t ino) {
        if (Ext2Inode* known = mount.inodes.find(ino)) {
            known->retain();
            return static_cast<Inode*>(known);
        }
        auto info = TRY(mount.volume.stat(ino));
        auto* inode = mm::try_make<Ext2Inode>(mount, info);
        if (!inode) return lib::Errno::NoMem;
        mount.inodes.insert(ino, inode);
        return static_cast<Inode*>(inode);
    }

private:
    static constexpr size_t kWindow = 128;  // blocks of the map read at once
    static constexpr uint64_t kUnknown = ~uint64_t(0);

    // Per page of the file: its device offset (kUnknown until read) and its frame (0 until
    // first asked). A page cache frame never moves, so each is looked up once.
    lib::ErrorOr allocate_maps() {
        m_pages = (m_info.size + arch::kPageSize - 1) / arch::kPageSize;
        m_offsets = static_cast<uint64_t*>(mm::kmalloc(m_pages * sizeof(uint64_t)));
        m_frames = static_cast<uint64_t*>(mm::kmalloc(m_pages * sizeof(uint64_t)));
        if (!m_offsets || !m_frames) {
            mm::kfree(m_offsets);
            mm::kfree(m_frames);
            m_offsets = m_frames = nullptr;
            return lib::Errno::NoMem;
        }
        for (uint64_t i = 0; i < m_pages; ++i) {
            m_offsets[i] = kUnknown;
            m_frames[i] = 0;
        }
        return {};
    }

    Mount* m_mount;
    lib::fs::ext2::InodeInfo m_info;
    uint64_t m_pages = 0;
    uint64_t* m_offsets = nullptr;
    uint64_t* m_frames = nullptr;
};

Ext2Inode* InodeTable::find(uint32_t ino) const {
    if (!m_capacity) return nullptr;
    for (size_t i = ino & (m_capacity - 1);; i = (i + 1) & (m_capacity - 1)) {
        if (!m_slots[i].inode) return nullptr;
        if (m_slots[i].ino == ino) return m_slots[i].inode;
    }
}

void InodeTable::insert(uint32_t ino, Ext2Inode* inode) {
    if ((m_count + 1) * 2 > m_capacity) {
        size_t capacity = m_capacity ? m_capacity * 2 : 256;
        auto* slots = static_cast<Slot*>(mm::kmalloc(capacity * sizeof(Slot)));
        if (!slots) return;  // not cached: correct, only slower
        for (size_t i = 0; i < capacity; ++i) slots[i] = {0, nullptr};
        Slot* old = m_slots;
        size_t old_capacity = m_capacity;
        m_slots = slots;
        m_capacity = capacity;
        m_count = 0;
        for (size_t i = 0; i < old_capacity; ++i)
            if (old[i].inode) {
                size_t at = old[i].ino & (m_capacity - 1);
                while (m_slots[at].inode) at = (at + 1) & (m_capacity - 1);
                m_slots[at] = old[i];
                ++m_count;
            }
        mm::kfree(old);
    }
    size_t at = ino & (m_capacity - 1);
    while (m_slots[at].inode) at = (at + 1) & (m_capacity - 1);
    inode->retain();
    m_slots[at] = {ino, inode};
    ++m_count;
}

uint64_t DentryTable::hash_of(uint32_t dir, std::string_view name) {
    uint64_t hash = 0xcbf29ce484222325ull ^ dir;
    for (char c : name) hash = (hash ^ uint8_t(c)) * 0x100000001b3ull;
    return hash;
}

std::optional<uint32_t> DentryTable::find(uint32_t dir, std::string_view name) const {
    if (!m_capacity) return std::nullopt;
    uint64_t hash = hash_of(dir, name);
    for (size_t i = hash & (m_capacity - 1);; i = (i + 1) & (m_capacity - 1)) {
        const Slot& slot = m_slots[i];
        if (!slot.name) return std::nullopt;
        if (slot.hash == hash && slot.dir == dir && slot.length == name.size() &&
            __builtin_memcmp(slot.name, name.data(), name.size()) == 0)
            return slot.ino;
    }
}

void DentryTable::insert(uint32_t dir, std::string_view name, uint32_t ino) {
    if (name.size() > 255) return;
    if ((m_count + 1) * 2 > m_capacity) {
        size_t capacity = m_capacity ? m_capacity * 2 : 512;
        auto* slots = static_cast<Slot*>(mm::kmalloc(capacity * sizeof(Slot)));
        if (!slots) return;
        for (size_t i = 0; i < capacity; ++i) slots[i] = {0, 0, 0, nullptr, 0};
        for (size_t i = 0; i < m_capacity; ++i) {
            if (!m_slots[i].name) continue;
            size_t at = m_slots[i].hash & (capacity - 1);
            while (slots[at].name) at = (at + 1) & (capacity - 1);
            slots[at] = m_slots[i];
        }
        mm::kfree(m_slots);
        m_slots = slots;
        m_capacity = capacity;
    }
    auto* copy = static_cast<char*>(mm::kmalloc(name.size() + 1));
    if (!copy) return;
    __builtin_memcpy(copy, name.data(), name.size());
    copy[name.size()] = '\0';
    uint64_t hash = hash_of(dir, name);
    size_t at = hash & (m_capacity - 1);
    while (m_slots[at].name) at = (at + 1) & (m_capacity - 1);
    m_slots[at] = {hash, dir, ino, copy, uint8_t(name.size())};
    ++m_count;
}

}  // namespace

lib::Result<Inode*> open_ext2_root(PartitionDevice& device, const lib::fs::ext2::Volume& volume) {
    if (device.offset() % arch::kPageSize) return lib::Errno::Inval;  // pages must line up
    uint64_t zero = TRY(mm::alloc_zeroed_frame());
    g_mount = mm::try_make<Mount>(Mount{&device, volume, zero});
    if (!g_mount) return lib::Errno::NoMem;
    return Ext2Inode::make(*g_mount, lib::fs::ext2::Volume::kRootIno);
}

}  // namespace kernel::fs
