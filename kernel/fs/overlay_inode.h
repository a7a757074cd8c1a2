// OverlayInode: one path of the overlay (overlay.h), private to overlay*.cc. It holds the
// upper inode (once there is one), the lower inode (when the lower layer has the path), and
// its parent and name, which copy-up walks back along. Made afresh by every lookup (like the
// ext2 inodes under it), so two inodes of one path can exist: a generation count, bumped by
// every change to the upper layer's names, tells an inode without an upper part when to look
// again whether another one made it.
#pragma once

#include "kernel/fs/memfs.h"
#include "kernel/fs/overlay.h"

namespace kernel::fs {

struct Overlay {
    Memfs* upper;
    uint64_t generation = 0;
};

class OverlayInode final : public Inode {
public:
    // Takes over the references to `upper` and `lower` (either may be nullptr, not both);
    // retains `parent` (nullptr for the root).
    OverlayInode(Overlay& fs, OverlayInode* parent, std::string_view name, MemInode* upper,
                 Inode* lower);
    ~OverlayInode() override;

    uint32_t mode() const override;
    uint64_t size() const override;
    uint64_t ino() const override;
    const void* filesystem() const override { return m_fs; }
    lib::ErrorOr stat(sys::LinuxStat& out) const override;
    bool writable() const override { return true; }
    lib::Result<FsStats> statfs() const override;

    lib::Result<Inode*> lookup(std::string_view name) override;
    lib::Result<size_t> read(uint64_t offset, std::span<std::byte> out) override;
    lib::Result<size_t> read_link(std::span<char> out) override;
    lib::Result<bool> next_entry(uint64_t& cookie, DirEntry& out) override;
    lib::Result<uint64_t> cached_page(uint64_t index) override;
    lib::Result<MappedPage> map_page(uint64_t index, bool for_write) override;

    lib::ErrorOr open_for_write(bool truncating) override;
    lib::Result<size_t> write(uint64_t offset, std::span<const std::byte> data) override;
    lib::ErrorOr truncate(uint64_t size) override;
    lib::ErrorOr set_mode(uint32_t permissions) override;
    lib::ErrorOr set_owner(uint32_t uid, uint32_t gid) override;
    lib::ErrorOr set_times(const Timestamp* atime, const Timestamp* mtime) override;

    lib::Result<Inode*> create(std::string_view name, uint32_t permissions) override;
    lib::ErrorOr make_directory(std::string_view name, uint32_t permissions) override;
    lib::ErrorOr make_symlink(std::string_view name, std::string_view target) override;
    lib::Result<Inode*> make_node(std::string_view name, uint32_t mode) override;
    lib::ErrorOr link(std::string_view name, Inode& target) override;
    lib::ErrorOr remove(std::string_view name, bool directory) override;
    lib::ErrorOr rename(std::string_view from, Inode& to_dir, std::string_view to,
                        unsigned flags) override;

private:
    static constexpr uint64_t kWholeFile = ~uint64_t(0);

    std::string_view name() const { return {m_name, m_name_length}; }
    Inode& current() const { return m_upper ? static_cast<Inode&>(*m_upper) : *m_lower; }
    // overlay.cc: keeping up with the upper layer, copying up.
    bool needs_sync() const;
    void sync() const;   // adopts an upper copy made through another inode of this path
    void adopt() const;  // sync() for one inode whose parent is up to date
    // Makes the upper inode exist (and every parent's), copying at most `data_limit` bytes.
    lib::ErrorOr copy_up(uint64_t data_limit);
    lib::ErrorOr copy_up_one(uint64_t data_limit);
    lib::ErrorOr copy_data(MemInode& copy, uint64_t size);
    // overlay_dir.cc: the merged view.
    bool lower_visible() const;  // lower entries show through this directory
    bool lower_has(std::string_view name) const;
    lib::Result<bool> merged_empty();
    lib::ErrorOr check_free(std::string_view name);  // Exist unless `name` is unused
    lib::Result<Inode*> wrap(std::string_view name, MemInode* upper, Inode* lower);
    lib::ErrorOr ready_directory();  // a directory, not deleted, copied up

    Overlay* m_fs;
    OverlayInode* m_parent;
    mutable MemInode* m_upper;
    Inode* m_lower;
    mutable uint64_t m_synced;       // the generation sync() last looked at
    mutable bool m_deleted = false;  // the path was removed (or now names another file)
    uint8_t m_name_length;
    char m_name[kNameMax + 1];
};

}  // namespace kernel::fs
