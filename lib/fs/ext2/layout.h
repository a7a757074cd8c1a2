// The ext2 on-disk format as far as a read-only reader needs it: field offsets of the
// superblock, group descriptor, inode and directory entry, and the feature and flag bits.
// All fields are little-endian. Source: the kernel's Documentation/filesystems/ext4/
// (super.rst, group_descr.rst, inodes.rst, directory.rst, dynamic.rst) and e2fsprogs'
// lib/ext2fs/ext2_fs.h for the bit values.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lib::fs::ext2::layout {

// The superblock lives at byte 1024 whatever the block size; its first 256 bytes hold every
// field read here.
inline constexpr uint64_t kSuperblockOffset = 1024;
inline constexpr size_t kSuperblockBytes = 256;
inline constexpr uint16_t kMagic = 0xef53;

namespace sb {
inline constexpr size_t kInodesCount = 0x00;
inline constexpr size_t kBlocksCount = 0x04;
inline constexpr size_t kFirstDataBlock = 0x14;
inline constexpr size_t kLogBlockSize = 0x18;
inline constexpr size_t kBlocksPerGroup = 0x20;
inline constexpr size_t kInodesPerGroup = 0x28;
inline constexpr size_t kMagic = 0x38;
inline constexpr size_t kRevLevel = 0x4c;
// Revision 1 ("dynamic") only; revision 0 has 128-byte inodes and no feature words.
inline constexpr size_t kInodeSize = 0x58;
inline constexpr size_t kFeatureCompat = 0x5c;
inline constexpr size_t kFeatureIncompat = 0x60;
inline constexpr size_t kFeatureRoCompat = 0x64;
}  // namespace sb

inline constexpr uint32_t kRevGoodOld = 0;
inline constexpr uint32_t kRevDynamic = 1;
inline constexpr uint32_t kGoodOldInodeSize = 128;
// s_log_block_size: block size = 1024 << n; ext4 stops at 64 KiB.
inline constexpr uint32_t kMaxLogBlockSize = 6;

// INCOMPAT: a reader that does not know one of these must not mount. Only FILETYPE (a type
// byte in directory entries) is understood. The others change where metadata lives or how
// data is mapped (META_BG, EXTENTS, 64BIT descriptors, INLINE_DATA, ENCRYPT, CASEFOLD, ...)
// or mean the image is inconsistent until a journal replay (RECOVER). FLEX_BG (0x200, an
// INCOMPAT bit despite only relaxing where group metadata is placed) is refused as well,
// as Linux's ext2 driver does: such images are ext4 in practice.
inline constexpr uint32_t kIncompatFiletype = 0x0002;
inline constexpr uint32_t kIncompatSupported = kIncompatFiletype;

// RO_COMPAT: by definition readable without understanding them, with one exception here:
// BIGALLOC allocates in clusters, which only exists together with extents in practice, so
// refuse it rather than guess. HUGE_FILE changes how i_blocks counts (handled in stat).
// GDT_CSUM and METADATA_CSUM allow uninitialized inode tables (handled via kBgInodeUninit).
inline constexpr uint32_t kRoCompatHugeFile = 0x0008;
inline constexpr uint32_t kRoCompatGdtCsum = 0x0010;
inline constexpr uint32_t kRoCompatBigalloc = 0x0200;
inline constexpr uint32_t kRoCompatMetadataCsum = 0x0400;
inline constexpr uint32_t kRoCompatUnsupported = kRoCompatBigalloc;

// The 32-byte group descriptor (no 64BIT feature).
namespace gd {
inline constexpr size_t kSize = 32;
inline constexpr size_t kInodeTable = 0x08;
inline constexpr size_t kFlags = 0x12;
inline constexpr size_t kReadBytes = 0x14;  // through bg_flags
}  // namespace gd
inline constexpr uint16_t kBgInodeUninit = 0x0001;

// The first 128 bytes of an inode (the "good old" inode); larger inodes only add fields past
// them that a reader does not need.
namespace inode {
inline constexpr size_t kSize = 128;
inline constexpr size_t kMode = 0x00;
inline constexpr size_t kUid = 0x02;
inline constexpr size_t kSizeLo = 0x04;
inline constexpr size_t kAtime = 0x08;
inline constexpr size_t kCtime = 0x0c;
inline constexpr size_t kMtime = 0x10;
inline constexpr size_t kDtime = 0x14;
inline constexpr size_t kGid = 0x18;
inline constexpr size_t kLinksCount = 0x1a;
inline constexpr size_t kBlocksLo = 0x1c;
inline constexpr size_t kFlags = 0x20;
inline constexpr size_t kBlock = 0x28;  // i_block[15]
inline constexpr size_t kFileAcl = 0x68;
inline constexpr size_t kSizeHigh = 0x6c;  // i_dir_acl in ext2: the size's top half for files
inline constexpr size_t kBlocksHigh = 0x74;
inline constexpr size_t kUidHigh = 0x78;
inline constexpr size_t kGidHigh = 0x7a;
}  // namespace inode

// i_block: 12 direct pointers, then single, double and triple indirect.
inline constexpr size_t kBlockPointers = 15;
inline constexpr size_t kDirectBlocks = 12;
inline constexpr size_t kIndirectSlot = 12;
inline constexpr size_t kDoubleSlot = 13;
inline constexpr size_t kTripleSlot = 14;
inline constexpr uint64_t kInlineBytes = kBlockPointers * 4;  // 60: a fast symlink's room

// i_flags the reader must look at. Data of an inode with EXTENTS, INLINE_DATA or ENCRYPT is
// not a block map of plain bytes, so it is refused rather than misread.
inline constexpr uint32_t kEncryptFl = 0x00000800;
inline constexpr uint32_t kHugeFileFl = 0x00040000;
inline constexpr uint32_t kExtentsFl = 0x00080000;
inline constexpr uint32_t kInlineDataFl = 0x10000000;
inline constexpr uint32_t kUnreadableFlags = kEncryptFl | kExtentsFl | kInlineDataFl;

// i_mode file types (S_IFMT).
inline constexpr uint16_t kTypeMask = 0xf000;
inline constexpr uint16_t kFifo = 0x1000;
inline constexpr uint16_t kCharDevice = 0x2000;
inline constexpr uint16_t kDirectory = 0x4000;
inline constexpr uint16_t kBlockDevice = 0x6000;
inline constexpr uint16_t kRegular = 0x8000;
inline constexpr uint16_t kSymlink = 0xa000;
inline constexpr uint16_t kSocket = 0xc000;

// Directory entry: inode u32, rec_len u16, name_len u8, then file_type u8 (FILETYPE) or the
// high byte of a 16-bit name_len (which Linux ignores: names are at most 255 bytes), name.
namespace dirent {
inline constexpr size_t kHeaderSize = 8;
inline constexpr size_t kInode = 0;
inline constexpr size_t kRecLen = 4;
inline constexpr size_t kNameLen = 6;
inline constexpr size_t kFileType = 7;
inline constexpr uint32_t kMinRecLen = 12;  // EXT2_DIR_REC_LEN(1)
}  // namespace dirent

// Little-endian loads from a byte buffer; offset + width must lie inside it.
inline uint16_t load_le16(const std::byte* p, size_t offset) {
    return uint16_t(uint16_t(p[offset]) | uint16_t(p[offset + 1]) << 8);
}
inline uint32_t load_le32(const std::byte* p, size_t offset) {
    return uint32_t(p[offset]) | uint32_t(p[offset + 1]) << 8 | uint32_t(p[offset + 2]) << 16 |
           uint32_t(p[offset + 3]) << 24;
}

}  // namespace lib::fs::ext2::layout
