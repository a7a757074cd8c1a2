// Mounting and inodes: the superblock's features and geometry are checked once, so that every
// later block number below s_blocks_count and every inode number up to s_inodes_count is known
// to lie on the device; an inode is then found through its group descriptor and decoded from
// its first 128 bytes.
#include "lib/fs/ext2/volume.h"

#include "lib/base/checked.h"

namespace lib::fs::ext2 {

using namespace layout;

namespace {

bool is_known_type(uint16_t type) {
    switch (type) {
        case kFifo:
        case kCharDevice:
        case kDirectory:
        case kBlockDevice:
        case kRegular:
        case kSymlink:
        case kSocket:
            return true;
        default:
            return false;
    }
}

// The features this reader can honour without misreading: see layout.h for each choice.
// Linux reads the feature words even in a revision-0 superblock (where they should be 0), so
// they are honoured there too.
ErrorOr check_features(const std::byte* raw) {
    uint32_t incompat = load_le32(raw, sb::kFeatureIncompat);
    uint32_t ro_compat = load_le32(raw, sb::kFeatureRoCompat);
    if (incompat & ~kIncompatSupported) return Errno::OpNotSupp;
    if (ro_compat & kRoCompatUnsupported) return Errno::OpNotSupp;
    return {};
}

}  // namespace

Result<Volume> Volume::mount(BlockDevice& device) {
    if (device.size() < kSuperblockOffset + 1024) return Errno::Inval;
    std::byte raw[kSuperblockBytes];
    TRY(device.read(kSuperblockOffset, raw));
    if (load_le16(raw, sb::kMagic) != kMagic) return Errno::Inval;
    uint32_t revision = load_le32(raw, sb::kRevLevel);
    if (revision > kRevDynamic) return Errno::OpNotSupp;
    TRY(check_features(raw));

    Volume volume(device);
    TRY(volume.configure(raw, revision));
    Inode root = TRY(volume.load_inode(kRootIno));
    if (root.type() != kDirectory) return Errno::Io;
    return volume;
}

ErrorOr Volume::configure(const std::byte* raw, uint32_t revision) {
    uint32_t log_block_size = load_le32(raw, sb::kLogBlockSize);
    if (log_block_size > kMaxLogBlockSize) return Errno::Io;
    m_block_shift = 10 + log_block_size;
    m_block_size = uint32_t(1) << m_block_shift;
    m_blocks_count = load_le32(raw, sb::kBlocksCount);
    m_inodes_count = load_le32(raw, sb::kInodesCount);
    m_first_data_block = load_le32(raw, sb::kFirstDataBlock);
    uint32_t blocks_per_group = load_le32(raw, sb::kBlocksPerGroup);
    m_inodes_per_group = load_le32(raw, sb::kInodesPerGroup);

    // Block 0 holds the superblock unless blocks are 1 KiB (then block 1 does); the group
    // descriptors follow in the next block. Without BIGALLOC nothing else is valid.
    if (m_first_data_block != (m_block_size == 1024 ? 1u : 0u)) return Errno::Io;
    if (m_blocks_count <= m_first_data_block + 1) return Errno::Io;
    // One block of bitmap per group bounds both per-group counts.
    uint32_t bitmap_bits = m_block_size * 8;
    if (blocks_per_group == 0 || blocks_per_group > bitmap_bits) return Errno::Io;
    if (m_inodes_per_group == 0 || m_inodes_per_group > bitmap_bits) return Errno::Io;
    uint64_t groups =
        (uint64_t(m_blocks_count) - m_first_data_block + blocks_per_group - 1) / blocks_per_group;
    // As ext4_fill_super() insists: every inode number maps to an existing group.
    if (groups * m_inodes_per_group != m_inodes_count) return Errno::Io;
    if (m_inodes_count < kRootIno) return Errno::Io;

    m_inode_size = kGoodOldInodeSize;
    if (revision == kRevDynamic) m_inode_size = load_le16(raw, sb::kInodeSize);
    if (m_inode_size < kGoodOldInodeSize || m_inode_size > m_block_size ||
        (m_inode_size & (m_inode_size - 1)) != 0)
        return Errno::Io;
    uint64_t table_bytes = uint64_t(m_inodes_per_group) * m_inode_size;
    m_inode_table_blocks = uint32_t((table_bytes + m_block_size - 1) >> m_block_shift);
    if (m_inode_table_blocks >= m_blocks_count) return Errno::Io;

    // Every block the filesystem claims must be on the device: after this a device read of a
    // checked block can only fail for the device's own reasons.
    uint64_t fs_bytes = uint64_t(m_blocks_count) << m_block_shift;
    if (fs_bytes > m_device->size()) return Errno::Io;
    m_descriptors_offset = (uint64_t(m_first_data_block) + 1) << m_block_shift;
    if (!range_within(m_descriptors_offset, groups * gd::kSize, fs_bytes)) return Errno::Io;

    uint32_t ro_compat = load_le32(raw, sb::kFeatureRoCompat);
    m_filetype = load_le32(raw, sb::kFeatureIncompat) & kIncompatFiletype;
    m_huge_file = ro_compat & kRoCompatHugeFile;
    m_uninit_groups = ro_compat & (kRoCompatGdtCsum | kRoCompatMetadataCsum);
    return {};
}

Result<uint64_t> Volume::inode_offset(uint32_t ino) const {
    if (ino == 0 || ino > m_inodes_count) return Errno::Inval;
    uint32_t group = (ino - 1) / m_inodes_per_group;
    uint32_t index = (ino - 1) % m_inodes_per_group;
    std::byte raw[gd::kReadBytes];
    TRY(m_device->read(m_descriptors_offset + uint64_t(group) * gd::kSize, raw));
    uint32_t table = load_le32(raw, gd::kInodeTable);
    if (table <= m_first_data_block || uint64_t(table) + m_inode_table_blocks > m_blocks_count)
        return Errno::Io;
    // An uninitialized table holds no inode in use (and possibly garbage): a name that
    // leads there is corruption.
    if (m_uninit_groups && (load_le16(raw, gd::kFlags) & kBgInodeUninit)) return Errno::Io;
    return (uint64_t(table) << m_block_shift) + uint64_t(index) * m_inode_size;
}

Result<Volume::Inode> Volume::load_inode(uint32_t ino) const {
    uint64_t offset = TRY(inode_offset(ino));
    std::byte raw[inode::kSize];
    TRY(m_device->read(offset, raw));

    Inode n;
    n.ino = ino;
    n.mode = load_le16(raw, inode::kMode);
    if (!is_known_type(n.type())) return Errno::Io;  // also a free inode (mode 0)
    n.links = load_le16(raw, inode::kLinksCount);
    // A deleted inode (Linux ext2_iget() calls it stale).
    if (n.links == 0 && load_le32(raw, inode::kDtime) != 0) return Errno::Io;
    n.uid = load_le16(raw, inode::kUid) | uint32_t(load_le16(raw, inode::kUidHigh)) << 16;
    n.gid = load_le16(raw, inode::kGid) | uint32_t(load_le16(raw, inode::kGidHigh)) << 16;
    n.size = load_le32(raw, inode::kSizeLo);
    // ext2 keeps the top half of the size only for regular files (elsewhere it is i_dir_acl).
    if (n.type() == kRegular) n.size |= uint64_t(load_le32(raw, inode::kSizeHigh)) << 32;
    n.atime = load_le32(raw, inode::kAtime);
    n.ctime = load_le32(raw, inode::kCtime);
    n.mtime = load_le32(raw, inode::kMtime);
    n.flags = load_le32(raw, inode::kFlags);
    n.file_acl = load_le32(raw, inode::kFileAcl);
    // ext4 inode_blocks(): with HUGE_FILE, 48 bits, counted in filesystem blocks when the
    // inode says so.
    n.blocks_512 = load_le32(raw, inode::kBlocksLo);
    if (m_huge_file) {
        n.blocks_512 |= uint64_t(load_le16(raw, inode::kBlocksHigh)) << 32;
        if (n.flags & kHugeFileFl) n.blocks_512 <<= m_block_shift - 9;
    }
    for (size_t i = 0; i < kBlockPointers; ++i) n.block[i] = load_le32(raw, inode::kBlock + 4 * i);
    return n;
}

Result<InodeInfo> Volume::stat(uint32_t ino) const {
    Inode n = TRY(load_inode(ino));
    InodeInfo info{};
    info.ino = ino;
    info.mode = n.mode;
    info.uid = n.uid;
    info.gid = n.gid;
    info.links = n.links;
    info.size = n.size;
    info.atime = n.atime;
    info.mtime = n.mtime;
    info.ctime = n.ctime;
    info.blocks_512 = n.blocks_512;
    // Linux ext2_iget(): an old 16-bit (8:8) number in i_block[0], else the new 32-bit encoding
    // in i_block[1]. Either way new_encode_dev(): minor's low byte, major, minor's high bits.
    if (n.type() == kCharDevice || n.type() == kBlockDevice)
        info.rdev = n.block[0] != 0 ? n.block[0] & 0xffff : n.block[1];
    return info;
}

// Linux ext2_inode_is_fast_symlink(): no data blocks besides an extended-attribute block.
bool Volume::is_fast_symlink(const Inode& inode) const {
    uint64_t ea_blocks = inode.file_acl != 0 ? m_block_size >> 9 : 0;
    return inode.type() == kSymlink && inode.blocks_512 == ea_blocks;
}

}  // namespace lib::fs::ext2
