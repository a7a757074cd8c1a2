// memfs: inodes, directory entries (a NameTable each) and file data in frames.
#include "kernel/fs/memfs.h"

#include <new>

#include "kernel/arch/x86_64/layout.h"
#include "kernel/mm/frames.h"
#include "kernel/mm/heap.h"
#include "kernel/sys/linux_types.h"

namespace kernel::fs {

namespace {

constexpr uint64_t kPage = arch::kPageSize;
constexpr uint64_t kMaxSize = FilePages::kMaxPages * kPage;
constexpr uint64_t kStValid = 0x20, kStNoAtime = 0x400;

// File data of every memfs together (/tmp and the overlay's upper layer) may take half the
// RAM, as one Linux tmpfs may; the rest stays for the program and the kernel.
uint64_t g_pages_in_use = 0;

uint64_t page_budget() { return mm::total_frame_count() / 2; }

}  // namespace

// --- Memfs ---

Memfs::Memfs(const Options& options) : m_options(options), m_next_ino(options.first_ino) {}

lib::Result<Memfs*> Memfs::create(const Options& options) {
    auto* fs = new (std::nothrow) Memfs(options);
    if (!fs) return lib::Errno::NoMem;
    auto zero = mm::alloc_zeroed_frame();
    auto* root = zero.has_value() ? mm::try_make<MemInode>(
                                        *fs, kTypeDirectory | (options.root_mode & kPermissionMask))
                                  : nullptr;
    if (!root) {
        if (zero.has_value()) mm::free_frame(zero.value());
        delete fs;
        return lib::Errno::NoMem;
    }
    fs->m_zero_page = zero.value();
    fs->m_root = root;
    return fs;
}

FsStats Memfs::statfs() const {
    uint64_t free_frames = mm::free_frame_count();
    uint64_t budget = page_budget();
    uint64_t room = budget > g_pages_in_use ? budget - g_pages_in_use : 0;
    if (room > free_frames) room = free_frames;
    FsStats stats{};
    stats.type = m_options.magic;
    stats.block_size = kPage;
    stats.blocks = budget;
    stats.blocks_free = stats.blocks_available = room;
    stats.files = m_inodes + free_frames;  // an inode costs far less than a frame
    stats.files_free = free_frames;
    stats.flags = kStValid | kStNoAtime;
    return stats;
}

lib::Result<uint64_t> Memfs::alloc_page(bool zeroed) {
    if (g_pages_in_use >= page_budget()) return lib::Errno::NoSpc;
    auto frame = zeroed ? mm::alloc_zeroed_frame() : mm::alloc_frame();
    if (frame.is_error()) return lib::Errno::NoSpc;
    ++g_pages_in_use;
    return frame.value();
}

void Memfs::free_page(uint64_t frame) {
    --g_pages_in_use;
    mm::release_frame(frame);
}

lib::fs::NameNode** Memfs::allocate(size_t count) {
    auto* buckets =
        static_cast<lib::fs::NameNode**>(mm::kmalloc(count * sizeof(lib::fs::NameNode*)));
    if (buckets) __builtin_memset(buckets, 0, count * sizeof(lib::fs::NameNode*));
    return buckets;
}

void Memfs::deallocate(lib::fs::NameNode** buckets, size_t) { mm::kfree(buckets); }

// --- MemInode: attributes and data ---

MemInode::MemInode(Memfs& fs, uint32_t mode)
    : m_fs(&fs),
      m_ino(fs.next_ino()),
      m_mode(mode),
      m_links((mode & kTypeMask) == kTypeDirectory ? 2 : 1),
      m_entries(fs) {
    m_atime = m_mtime = m_ctime = now();
    fs.inode_created();
}

MemInode::~MemInode() {
    clear_entries();
    m_pages.free_from(0, *m_fs);
    mm::kfree(m_target);
    m_fs->inode_destroyed();
}

lib::ErrorOr MemInode::stat(sys::LinuxStat& out) const {
    out = {};
    out.dev = m_fs->dev();
    out.ino = m_ino;
    out.nlink = m_links;
    out.mode = m_mode;
    out.uid = m_uid;
    out.gid = m_gid;
    out.size = int64_t(m_size);
    out.blksize = int64_t(kPage);
    out.blocks = int64_t(m_pages.page_count() * (kPage / 512));
    out.atime = uint64_t(m_atime.seconds);
    out.atime_nsec = m_atime.nanoseconds;
    out.mtime = uint64_t(m_mtime.seconds);
    out.mtime_nsec = m_mtime.nanoseconds;
    out.ctime = uint64_t(m_ctime.seconds);
    out.ctime_nsec = m_ctime.nanoseconds;
    return {};
}

lib::Result<size_t> MemInode::read(uint64_t offset, std::span<std::byte> out) {
    if (is_directory()) return lib::Errno::IsDir;
    if (!is_regular()) return lib::Errno::Inval;
    if (offset >= m_size) return size_t(0);
    size_t length = out.size() < m_size - offset ? out.size() : size_t(m_size - offset);
    for (size_t done = 0; done < length;) {
        uint64_t position = offset + done;
        size_t within = position % kPage;
        size_t chunk = kPage - within < length - done ? kPage - within : length - done;
        uint64_t frame = m_pages.frame(position / kPage);
        if (frame)
            __builtin_memcpy(out.data() + done, arch::phys_to_virt<std::byte>(frame) + within,
                             chunk);
        else
            __builtin_memset(out.data() + done, 0, chunk);
        done += chunk;
    }
    return length;
}

lib::Result<size_t> MemInode::read_link(std::span<char> out) {
    if (!is_symlink()) return lib::Errno::Inval;
    size_t length = m_size < out.size() ? size_t(m_size) : out.size();
    __builtin_memcpy(out.data(), m_target, length);
    return length;
}

lib::Result<uint64_t> MemInode::cached_page(uint64_t index) {
    if (!is_regular()) return lib::Errno::OpNotSupp;
    if (index >= FilePages::kMaxPages || index * kPage >= m_size) return m_fs->zero_page();
    uint64_t frame = m_pages.frame(index);
    if (!frame) return m_fs->zero_page();
    return frame;
}

lib::Result<MappedPage> MemInode::map_page(uint64_t index, bool for_write) {
    if (!is_regular()) return lib::Errno::OpNotSupp;
    if (index >= FilePages::kMaxPages) return lib::Errno::Inval;
    uint64_t frame = m_pages.frame(index);
    if (!frame) {
        if (!for_write) return MappedPage{m_fs->zero_page(), false};  // lives as long as the fs
        frame = TRY(m_pages.frame_for_write(index, false, *m_fs));
    }
    TRY(mm::share_frame(frame));
    return MappedPage{frame, true};
}

lib::Result<size_t> MemInode::write(uint64_t offset, std::span<const std::byte> data) {
    if (is_directory()) return lib::Errno::IsDir;
    if (!is_regular()) return lib::Errno::Inval;
    if (data.empty()) return size_t(0);
    if (offset >= kMaxSize || data.size() > kMaxSize - offset) return lib::Errno::FBig;
    size_t done = 0;
    while (done < data.size()) {
        uint64_t position = offset + done;
        size_t within = position % kPage;
        size_t chunk = kPage - within < data.size() - done ? kPage - within : data.size() - done;
        auto frame = m_pages.frame_for_write(position / kPage, chunk == kPage, *m_fs);
        if (frame.is_error()) {
            if (done) break;  // a short write reports what got in
            return frame.error();
        }
        __builtin_memcpy(arch::phys_to_virt<std::byte>(frame.value()) + within, data.data() + done,
                         chunk);
        done += chunk;
    }
    if (offset + done > m_size) m_size = offset + done;
    touch();
    return done;
}

lib::ErrorOr MemInode::truncate(uint64_t size) {
    if (is_directory()) return lib::Errno::IsDir;
    if (!is_regular()) return lib::Errno::Inval;
    if (size > kMaxSize) return lib::Errno::FBig;
    if (size < m_size) {
        m_pages.free_from((size + kPage - 1) / kPage, *m_fs);
        // Bytes past EOF in the last page stay zero, so growing the file again reads zeros.
        if (uint64_t frame = size % kPage ? m_pages.frame(size / kPage) : 0)
            __builtin_memset(arch::phys_to_virt<std::byte>(frame) + size % kPage, 0,
                             kPage - size % kPage);
    }
    m_size = size;
    touch();
    return {};
}

lib::ErrorOr MemInode::fill_page(uint64_t index, const std::byte* data) {
    uint64_t frame = TRY(m_pages.frame_for_write(index, true, *m_fs));
    __builtin_memcpy(arch::phys_to_virt<std::byte>(frame), data, kPage);
    return {};
}

lib::ErrorOr MemInode::set_mode(uint32_t permissions) {
    m_mode = (m_mode & kTypeMask) | (permissions & kPermissionMask);
    m_ctime = now();
    return {};
}

lib::ErrorOr MemInode::set_owner(uint32_t uid, uint32_t gid) {
    if (uid != uint32_t(-1)) m_uid = uid;
    if (gid != uint32_t(-1)) m_gid = gid;
    m_ctime = now();
    return {};
}

lib::ErrorOr MemInode::set_times(const Timestamp* atime, const Timestamp* mtime) {
    if (atime) m_atime = *atime;
    if (mtime) m_mtime = *mtime;
    m_ctime = now();
    return {};
}

void MemInode::copy_attributes(const sys::LinuxStat& st) {
    m_mode = (m_mode & kTypeMask) | (st.mode & kPermissionMask);
    m_uid = st.uid;
    m_gid = st.gid;
    m_atime = {int64_t(st.atime), uint32_t(st.atime_nsec)};
    m_mtime = {int64_t(st.mtime), uint32_t(st.mtime_nsec)};
    m_ctime = {int64_t(st.ctime), uint32_t(st.ctime_nsec)};
}

void MemInode::touch() { m_mtime = m_ctime = now(); }

}  // namespace kernel::fs
