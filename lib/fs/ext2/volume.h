// A read-only ext2 reader over an injected BlockDevice. mount() checks the superblock; after
// that inodes, block pointers and directory entries are read a few bytes at a time, on demand,
// so nothing large lives on the (32 KiB) kernel stack and nothing is allocated. The image is
// hostile: every field is checked before it is used, corruption is Errno::Io, never a crash,
// an out-of-bounds read or an unbounded loop.
//
// Errors: Inval for "not ext2" (no magic, too small) and for bad arguments; OpNotSupp (Linux's
// ENOTSUP) for a revision or feature this reader does not understand (any INCOMPAT feature
// but FILETYPE, RO_COMPAT BIGALLOC, extent-mapped, inline-data or encrypted inodes); Io for
// corruption or a failed device read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "lib/base/result.h"
#include "lib/fs/ext2/layout.h"

namespace lib::fs::ext2 {

// The device holding the filesystem, with any partition offset already applied.
class BlockDevice {
public:
    // Fills all of `out` from byte `offset`: Errno::Io on failure or past the end.
    virtual ErrorOr read(uint64_t offset, std::span<std::byte> out) = 0;
    virtual uint64_t size() const = 0;  // bytes

protected:
    ~BlockDevice() = default;
};

// getdents64's d_type values, DT_UNKNOWN ... DT_SOCK (Linux include/linux/fs_types.h); named
// kDt* so they never meet the hosted <dirent.h> macros.
inline constexpr uint8_t kDtUnknown = 0;
inline constexpr uint8_t kDtFifo = 1;
inline constexpr uint8_t kDtChr = 2;
inline constexpr uint8_t kDtDir = 4;
inline constexpr uint8_t kDtBlk = 6;
inline constexpr uint8_t kDtReg = 8;
inline constexpr uint8_t kDtLnk = 10;
inline constexpr uint8_t kDtSock = 12;

struct InodeInfo {
    uint32_t ino;
    uint16_t mode;  // S_IFMT type (always a valid one) and permission bits
    uint32_t uid;   // with the Linux high 16 bits
    uint32_t gid;
    uint16_t links;
    uint64_t size;  // regular files include i_size_high
    uint32_t atime;
    uint32_t mtime;
    uint32_t ctime;
    uint64_t blocks_512;  // st_blocks (HUGE_FILE aware)
    uint32_t rdev;        // char/block devices: st_rdev as Linux's new_encode_dev() makes it
};

struct DirEntry {
    uint32_t ino;
    uint8_t type;  // a kDt* (DT_*) value
    uint8_t name_length;
    char name[256];  // name_length bytes, then a NUL
};

class Volume {
public:
    static constexpr uint32_t kRootIno = 2;
    static constexpr size_t kMaxNameLength = 255;

    // Reads and checks the superblock and the root inode. `device` must outlive the Volume.
    static Result<Volume> mount(BlockDevice& device);

    uint32_t block_size() const { return m_block_size; }
    uint32_t blocks_count() const { return m_blocks_count; }
    uint32_t inodes_count() const { return m_inodes_count; }

    // Inval for an inode number outside [1, inodes_count]; Io for a free or garbled inode.
    Result<InodeInfo> stat(uint32_t ino) const;

    // Regular files and symlink targets: up to out.size() bytes from `offset`; 0 at or after
    // EOF; holes read as zeros. IsDir for a directory, Inval for other types.
    Result<size_t> read(uint32_t ino, uint64_t offset, std::span<std::byte> out) const;

    // The inode named `name` in directory `dir_ino`. NoEnt (also for an empty name), NotDir,
    // NameTooLong (over 255 bytes).
    Result<uint32_t> lookup(uint32_t dir_ino, std::string_view name) const;

    // Directory iteration for getdents64, "." and ".." included. `cookie` starts at 0 and is
    // advanced past the entry returned (it is the directory byte offset of the next entry, so
    // it can be a d_off); false at the end. Deleted (ino 0) entries are skipped. Pass back
    // only cookies this produced: a misaligned one is Inval, another aligned one is parsed as
    // an entry like any other (a wrong name or Io, never a read out of bounds).
    Result<bool> next_entry(uint32_t dir_ino, uint64_t& cookie, DirEntry& out) const;

    // next_entry() in a loop that looks the directory up once (getdents64 filling a buffer):
    // calls fn(const DirEntry&) -> bool for each entry from `cookie` on. `cookie` advances past
    // every entry fn accepts; when fn returns false the walk stops and that entry stays
    // unconsumed, so the next call starts with it.
    template <typename Fn>
    ErrorOr for_each_entry(uint32_t dir_ino, uint64_t& cookie, Fn&& fn) const;

    // A symlink's target, fast (inside the inode) or slow (in a block): up to out.size()
    // bytes, no NUL added. Inval if `ino` is not a symlink.
    Result<size_t> read_link(uint32_t ino, std::span<char> out) const;

    // The device byte offset of file block `index` of a regular file, directory or slow
    // symlink, or 0 for a hole: lets the kernel read whole blocks straight into page-cache
    // pages. Inval for an index at or past the block holding EOF, for a fast symlink and for
    // inodes without data blocks.
    Result<uint64_t> block_offset(uint32_t ino, uint64_t index) const;
    // block_offset for the blocks first, first + 1, ... into `out`, loading the inode once;
    // stops at the block holding EOF. Returns how many were filled (0 when first is past it).
    Result<size_t> block_offsets(uint32_t ino, uint64_t first, std::span<uint64_t> out) const;

private:
    // The fields of an on-disk inode the reader uses, decoded and checked by load_inode().
    struct Inode {
        uint32_t ino;
        uint16_t mode;
        uint32_t uid;
        uint32_t gid;
        uint16_t links;
        uint64_t size;
        uint32_t atime, mtime, ctime;
        uint64_t blocks_512;
        uint32_t flags;
        uint32_t file_acl;
        uint32_t block[layout::kBlockPointers];
        uint16_t type() const { return mode & layout::kTypeMask; }
    };
    // One live directory entry as scan_entries() finds it.
    struct RawEntry {
        uint32_t ino;
        uint8_t name_length;
        uint8_t file_type;     // EXT2_FT_* (only with FILETYPE)
        uint64_t name_offset;  // device byte offset of the name
    };

    // Where scan_entries() is in a directory, and which block it has mapped.
    struct DirCursor {
        uint64_t position;  // directory byte offset of the next entry
        uint64_t index = 0;
        uint64_t block_base = 0;  // device byte offset of block `index`
        bool mapped = false;
    };

    explicit Volume(BlockDevice& device) : m_device(&device) {}

    // volume.cc: geometry and inodes.
    ErrorOr configure(const std::byte* superblock, uint32_t revision);
    Result<uint64_t> inode_offset(uint32_t ino) const;
    Result<Inode> load_inode(uint32_t ino) const;
    bool is_fast_symlink(const Inode& inode) const;
    // file.cc: the block map and data.
    ErrorOr check_block_map(const Inode& inode) const;
    ErrorOr check_symlink(const Inode& inode) const;
    Result<uint32_t> read_pointer(uint32_t block, uint64_t slot) const;
    Result<uint32_t> walk_indirect(uint32_t block, unsigned depth, uint64_t index) const;
    Result<uint32_t> map_block(const Inode& inode, uint64_t index) const;
    Result<size_t> read_data(const Inode& inode, uint64_t offset, std::span<std::byte> out) const;
    // directory.cc: entries.
    uint32_t decode_rec_len(uint16_t raw) const;
    Result<Inode> load_directory(uint32_t ino) const;
    Result<bool> scan_entries(const Inode& dir, DirCursor& cursor, RawEntry& out) const;
    Result<uint8_t> entry_type(const RawEntry& entry) const;
    Result<bool> next_in(const Inode& dir, DirCursor& cursor, DirEntry& out) const;

    BlockDevice* m_device;
    uint32_t m_block_size = 0;
    uint32_t m_block_shift = 0;  // log2(m_block_size)
    uint32_t m_blocks_count = 0;
    uint32_t m_inodes_count = 0;
    uint32_t m_inodes_per_group = 0;
    uint32_t m_inode_size = 0;
    uint32_t m_inode_table_blocks = 0;  // per group
    uint32_t m_first_data_block = 0;
    uint64_t m_descriptors_offset = 0;  // device byte offset of the group descriptor table
    bool m_filetype = false;            // INCOMPAT_FILETYPE: directory entries carry a type
    bool m_huge_file = false;           // RO_COMPAT_HUGE_FILE
    bool m_uninit_groups = false;       // GDT_CSUM or METADATA_CSUM: bg_flags are meaningful
};

template <typename Fn>
ErrorOr Volume::for_each_entry(uint32_t dir_ino, uint64_t& cookie, Fn&& fn) const {
    Inode dir = TRY(load_directory(dir_ino));
    DirCursor cursor{cookie};
    DirEntry entry;
    while (TRY(next_in(dir, cursor, entry))) {
        if (!fn(static_cast<const DirEntry&>(entry))) return {};
        cookie = cursor.position;
    }
    cookie = cursor.position;
    return {};
}

}  // namespace lib::fs::ext2
