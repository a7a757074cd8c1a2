// The overlay's inodes: which layer answers, keeping up with copies made elsewhere, copy-up,
// and the operations on file data and attributes (each copies up first).
#include "kernel/arch/x86_64/layout.h"
#include "kernel/fs/overlay_inode.h"
#include "kernel/mm/heap.h"
#include "kernel/sys/linux_types.h"

namespace kernel::fs {

namespace {

constexpr uint64_t kPage = arch::kPageSize;
constexpr uint64_t kExt2Magic = 0xef53;
constexpr uint64_t kStValid = 0x20, kStNoAtime = 0x400;

}  // namespace

OverlayInode::OverlayInode(Overlay& fs, OverlayInode* parent, std::string_view name,
                           MemInode* upper, Inode* lower)
    : m_fs(&fs),
      m_parent(parent),
      m_upper(upper),
      m_lower(lower),
      m_synced(fs.generation),
      m_name_length(uint8_t(name.size() < kNameMax ? name.size() : kNameMax)) {
    if (m_parent) m_parent->retain();
    __builtin_memcpy(m_name, name.data(), m_name_length);
    m_name[m_name_length] = '\0';
}

OverlayInode::~OverlayInode() {
    if (m_upper) m_upper->release();
    if (m_lower) m_lower->release();
    // Parents are let go in a loop, not by recursion: a chain of inodes is as deep as the
    // program's paths (cwd walked into a deep tree), far deeper than the kernel stack.
    OverlayInode* parent = m_parent;
    while (parent) {
        if (!parent->has_one_reference()) {
            parent->release();
            break;
        }
        OverlayInode* next = parent->m_parent;
        parent->m_parent = nullptr;
        delete parent;
        parent = next;
    }
}

lib::Result<Inode*> make_overlay(Memfs& upper, Inode* lower_root) {
    InodeRef lower(lower_root);
    auto* fs = mm::try_make<Overlay>(Overlay{&upper});
    if (!fs) return lib::Errno::NoMem;
    sys::LinuxStat st;
    TRY(lower->stat(st));
    MemInode& top = upper.root();
    top.copy_attributes(st);
    top.set_ino(lower->ino());
    top.retain();
    auto* root = mm::try_make<OverlayInode>(*fs, nullptr, "/", &top, lower.take());
    if (!root) return lib::Errno::NoMem;
    return static_cast<Inode*>(root);
}

// --- which layer answers ---

uint32_t OverlayInode::mode() const {
    sync();
    return current().mode();
}

uint64_t OverlayInode::size() const {
    sync();
    return current().size();
}

uint64_t OverlayInode::ino() const {
    sync();
    return current().ino();
}

lib::ErrorOr OverlayInode::stat(sys::LinuxStat& out) const {
    sync();
    TRY(current().stat(out));
    out.dev = kOverlayDev;
    // A merged directory's link count is not known without listing both layers; 1 is what
    // overlayfs (and btrfs) report, and what find(1) takes for "count unknown".
    if (m_upper && lower_visible() && current().is_directory()) out.nlink = 1;
    return {};
}

lib::Result<FsStats> OverlayInode::statfs() const {
    FsStats upper = m_fs->upper->statfs();
    FsStats stats = upper;
    const OverlayInode* root = this;
    while (root->m_parent) root = root->m_parent;
    if (root->m_lower) {
        if (auto lower = root->m_lower->statfs(); lower.has_value()) {
            uint64_t lower_blocks = lower.value().blocks * lower.value().block_size / kPage;
            stats.blocks += lower_blocks;
            stats.files += lower.value().files;
        }
    }
    stats.type = kExt2Magic;
    stats.flags = kStValid | kStNoAtime;
    return stats;
}

lib::Result<size_t> OverlayInode::read(uint64_t offset, std::span<std::byte> out) {
    sync();
    return current().read(offset, out);
}

lib::Result<size_t> OverlayInode::read_link(std::span<char> out) {
    sync();
    return current().read_link(out);
}

lib::Result<uint64_t> OverlayInode::cached_page(uint64_t index) {
    sync();
    return current().cached_page(index);
}

lib::Result<MappedPage> OverlayInode::map_page(uint64_t index, bool for_write) {
    sync();
    return current().map_page(index, for_write);
}

// --- keeping up with copies made through other inodes ---

bool OverlayInode::needs_sync() const {
    return !m_upper && !m_deleted && m_parent && m_synced != m_fs->generation;
}

void OverlayInode::adopt() const {
    m_synced = m_fs->generation;
    if (m_parent->m_deleted || (m_parent->m_upper && m_parent->m_upper->removed())) {
        m_deleted = true;
        return;
    }
    if (!m_parent->m_upper) return;
    MemInode::Child child = m_parent->m_upper->find(name());
    if (child.whiteout || (child.inode && child.inode->ino() != m_lower->ino())) {
        m_deleted = true;
    } else if (child.inode) {
        child.inode->retain();
        m_upper = child.inode;
    }
}

void OverlayInode::sync() const {
    if (!needs_sync()) return;
    // Parents first (the topmost stale one each round); no recursion (see the destructor).
    for (;;) {
        const OverlayInode* node = this;
        while (node->m_parent->needs_sync()) node = node->m_parent;
        node->adopt();
        if (node == this) return;
        if (!node->m_upper) {
            // Nothing below an inode without an upper part can have one: done for all.
            for (const OverlayInode* below = this; below != node; below = below->m_parent) {
                below->m_synced = m_fs->generation;
                if (node->m_deleted) below->m_deleted = true;
            }
            return;
        }
    }
}

// --- copy-up ---

lib::ErrorOr OverlayInode::copy_up(uint64_t data_limit) {
    sync();
    while (!m_upper) {
        if (m_deleted) return lib::Errno::NoEnt;
        // The topmost inode without an upper part; the root always has one.
        OverlayInode* node = this;
        for (;;) {
            node->m_parent->sync();
            if (node->m_parent->m_upper || node->m_parent->m_deleted) break;
            node = node->m_parent;
        }
        if (node->m_parent->m_deleted) return lib::Errno::NoEnt;
        TRY(node->copy_up_one(node == this ? data_limit : kWholeFile));
    }
    return {};
}

lib::ErrorOr OverlayInode::copy_up_one(uint64_t data_limit) {
    MemInode& directory = *m_parent->m_upper;
    MemInode::Child existing = directory.find(name());
    if (existing.inode || existing.whiteout) {  // copied meanwhile, or gone
        adopt();
        return m_upper ? lib::ErrorOr{} : lib::Errno::NoEnt;
    }
    sys::LinuxStat st;
    TRY(m_lower->stat(st));
    uint32_t type = st.mode & kTypeMask;
    MemInode* copy = nullptr;
    if (type == kTypeDirectory || type == kTypeRegular || type == kTypeSocket) {
        copy = TRY(directory.add_child(name(), st.mode));
    } else if (type == kTypeSymlink) {
        auto* target = static_cast<char*>(mm::kmalloc(kPathMax));
        if (!target) return lib::Errno::NoMem;
        auto length = m_lower->read_link({target, kPathMax});
        auto made = length.is_error()
                        ? lib::Result<MemInode*>(length.error())
                        : directory.add_child(name(), st.mode, {target, length.value()});
        mm::kfree(target);
        copy = TRY(made);
    } else {
        return lib::Errno::OpNotSupp;  // device nodes and fifos of the image stay as they are
    }
    if (type == kTypeRegular) {
        uint64_t size = uint64_t(st.size) < data_limit ? uint64_t(st.size) : data_limit;
        if (auto copied = copy_data(*copy, size); copied.is_error()) {
            copy->release();
            (void)directory.drop_child(name(), false);
            return copied.error();
        }
    }
    copy->set_ino(m_lower->ino());
    copy->copy_attributes(st);
    m_upper = copy;
    m_synced = ++m_fs->generation;
    return {};
}

// Whole pages from the page cache (or read() where the lower file has none), then the size;
// truncate() zeroes whatever of the last page lies past it.
lib::ErrorOr OverlayInode::copy_data(MemInode& copy, uint64_t size) {
    uint64_t pages = (size + kPage - 1) / kPage;
    std::byte* bounce = nullptr;
    lib::ErrorOr result;
    for (uint64_t i = 0; i < pages && !result.is_error(); ++i) {
        auto frame = m_lower->cached_page(i);
        if (frame.has_value()) {
            result = copy.fill_page(i, arch::phys_to_virt<std::byte>(frame.value()));
            continue;
        }
        if (!bounce) bounce = static_cast<std::byte*>(mm::kmalloc(kPage));
        if (!bounce) {
            result = lib::Errno::NoMem;
            break;
        }
        __builtin_memset(bounce, 0, kPage);
        auto got = m_lower->read(i * kPage, {bounce, kPage});
        result = got.is_error() ? lib::ErrorOr(got.error()) : copy.fill_page(i, bounce);
    }
    mm::kfree(bounce);
    TRY(result);
    copy.set_size(pages * kPage);
    return copy.truncate(size);
}

// --- data and attributes: copy up, then the upper inode does it ---

lib::ErrorOr OverlayInode::open_for_write(bool truncating) {
    if (is_directory()) return lib::Errno::IsDir;
    return copy_up(truncating ? 0 : kWholeFile);
}

lib::Result<size_t> OverlayInode::write(uint64_t offset, std::span<const std::byte> data) {
    if (is_directory()) return lib::Errno::IsDir;
    TRY(copy_up(kWholeFile));
    return m_upper->write(offset, data);
}

lib::ErrorOr OverlayInode::truncate(uint64_t size) {
    if (is_directory()) return lib::Errno::IsDir;
    if (!is_regular()) return lib::Errno::Inval;
    TRY(copy_up(size));
    return m_upper->truncate(size);
}

lib::ErrorOr OverlayInode::set_mode(uint32_t permissions) {
    TRY(copy_up(kWholeFile));
    return m_upper->set_mode(permissions);
}

lib::ErrorOr OverlayInode::set_owner(uint32_t uid, uint32_t gid) {
    TRY(copy_up(kWholeFile));
    return m_upper->set_owner(uid, gid);
}

lib::ErrorOr OverlayInode::set_times(const Timestamp* atime, const Timestamp* mtime) {
    TRY(copy_up(kWholeFile));
    return m_upper->set_times(atime, mtime);
}

}  // namespace kernel::fs
