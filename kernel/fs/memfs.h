// memfs: an in-memory filesystem (tmpfs): directories, regular files whose data lives in
// 4 KiB frames (FilePages: holes read as zero, sparse writes allowed), symbolic links. It is
// /tmp and the writable upper layer of the root overlay (overlay.h), for which directories can
// also hold whiteouts (a name that hides the lower layer's entry) and be opaque. The file data
// of all memfs instances together may take half the RAM (then ENOSPC), as one Linux tmpfs.
//
// Mappings: map_page() lends the file's own frame, counted (mm::share_frame), so a page
// truncated or deleted while mapped lives on until its last mapping lets go. Private
// mappings see later writes to the file until they copy the page on write (as on Linux);
// shared ones write into it. A hole is lent to a read-only mapping as the shared zero page
// (it stays zero there); a shared writable mapping gets the page allocated first.
//
// Directories do not hold their parent: a linked directory's parent is linked (it cannot be
// removed while not empty), and a removed one forgets it, so ".." in it is NoEnt.
#pragma once

#include "kernel/fs/file_pages.h"
#include "kernel/fs/vfs.h"
#include "lib/fs/name_table.h"

namespace kernel::fs {

class MemInode;

class Memfs final : public PagePool, public lib::fs::BucketAllocator {
public:
    struct Options {
        uint64_t dev;        // st_dev
        uint64_t first_ino;  // inode numbers count up from here (the root's)
        uint64_t magic;      // statfs f_type
        uint32_t root_mode;  // permission bits of the root directory
    };
    // A new filesystem (lives for good). NoMem.
    static lib::Result<Memfs*> create(const Options& options);

    MemInode& root() { return *m_root; }
    uint64_t dev() const { return m_options.dev; }
    uint64_t zero_page() const { return m_zero_page; }
    uint64_t next_ino() { return m_next_ino++; }
    FsStats statfs() const;
    void inode_created() { ++m_inodes; }
    void inode_destroyed() { --m_inodes; }

    lib::Result<uint64_t> alloc_page(bool zeroed) override;
    void free_page(uint64_t frame) override;
    lib::fs::NameNode** allocate(size_t count) override;
    void deallocate(lib::fs::NameNode** buckets, size_t count) override;

private:
    explicit Memfs(const Options& options);

    Options m_options;
    MemInode* m_root = nullptr;
    uint64_t m_zero_page = 0;
    uint64_t m_next_ino;
    uint64_t m_inodes = 0;
};

class MemInode final : public Inode {
public:
    // What a directory holds under a name: nothing, a whiteout, or an inode (borrowed).
    struct Child {
        MemInode* inode = nullptr;
        bool whiteout = false;
    };

    MemInode(Memfs& fs, uint32_t mode);
    ~MemInode() override;

    uint32_t mode() const override { return m_mode; }
    uint64_t size() const override { return m_size; }
    uint64_t ino() const override { return m_ino; }
    const void* filesystem() const override { return m_fs; }
    lib::ErrorOr stat(sys::LinuxStat& out) const override;
    bool writable() const override { return true; }
    lib::Result<FsStats> statfs() const override { return m_fs->statfs(); }

    lib::Result<Inode*> lookup(std::string_view name) override;
    lib::Result<size_t> read(uint64_t offset, std::span<std::byte> out) override;
    lib::Result<size_t> read_link(std::span<char> out) override;
    lib::Result<bool> next_entry(uint64_t& cookie, DirEntry& out) override;
    lib::Result<uint64_t> cached_page(uint64_t index) override;
    lib::Result<MappedPage> map_page(uint64_t index, bool for_write) override;

    lib::ErrorOr open_for_write(bool) override { return {}; }
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

    // --- the primitives (no POSIX type checks; the overlay makes its own) ---
    Child find(std::string_view name) const;
    // A new inode `name` of type and permissions `mode` (a symlink to `target`), replacing a
    // whiteout of that name. A new reference. Exist, NoEnt (this directory was removed), NoMem.
    lib::Result<MemInode*> add_child(std::string_view name, uint32_t mode,
                                     std::string_view target = {});
    lib::ErrorOr add_link(std::string_view name, MemInode& target);
    lib::ErrorOr add_whiteout(std::string_view name);
    // Drops the entry `name` (a directory must hold no real entry), leaving a whiteout there
    // when `whiteout`.
    lib::ErrorOr drop_child(std::string_view name, bool whiteout);
    // Moves entry `from` to `to` in `to_dir`, replacing what is there (a directory must hold
    // no real entry); leaves a whiteout at `from` when `whiteout`.
    lib::ErrorOr move_child(std::string_view from, MemInode& to_dir, std::string_view to,
                            bool whiteout);
    bool opaque() const { return m_opaque; }
    void set_opaque(bool opaque) { m_opaque = opaque; }
    void set_ino(uint64_t ino) { m_ino = ino; }
    // Owner, permissions and times as another filesystem's stat reports them (copy-up).
    void copy_attributes(const sys::LinuxStat& st);
    // Copies one whole page of data in at page `index` (copy-up). NoSpc.
    lib::ErrorOr fill_page(uint64_t index, const std::byte* data);
    void set_size(uint64_t size) { m_size = size; }
    size_t entry_count() const { return m_real_entries; }
    // This directory is `dir` or holds it, at any depth.
    bool is_ancestor_of(const MemInode& dir) const;
    bool removed() const { return m_removed; }

private:
    struct Entry;
    void clear_entries();
    Entry* find_entry(std::string_view name) const;
    lib::Result<Entry*> new_entry(std::string_view name);
    void insert_entry(Entry* entry, MemInode* inode);
    void erase_entry(Entry* entry);
    // `child` lost the entry that named it.
    void unlinked(MemInode& child);
    void touch();  // mtime and ctime: now

    Memfs* m_fs;
    uint64_t m_ino;
    uint32_t m_mode;
    uint32_t m_uid = 0, m_gid = 0;
    uint32_t m_links = 0;  // names (directories: 2 + subdirectories while linked)
    uint64_t m_size = 0;
    Timestamp m_atime, m_mtime, m_ctime;
    // Directories.
    lib::fs::NameTable m_entries;
    MemInode* m_parent = nullptr;  // borrowed, see above; nullptr for the root and when removed
    size_t m_real_entries = 0;
    bool m_opaque = false;
    bool m_removed = false;
    // Regular files and symlinks.
    FilePages m_pages;
    char* m_target = nullptr;  // a symlink's, m_size bytes
};

}  // namespace kernel::fs
