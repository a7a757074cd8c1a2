// Directories: a linear walk of variable-length entries, each checked as Linux's
// ext2_check_page() does (record length, alignment, block boundary, name length, inode range).
// Hash-tree (dir_index) directories read the same way: their index blocks look like deleted
// entries, as does the metadata_csum tail.
#include "lib/fs/ext2/volume.h"

namespace lib::fs::ext2 {

using namespace layout;

namespace {

// The EXT2_FT_* codes of entries with FILETYPE, as d_type values; 0 where unknown.
constexpr uint8_t kFileTypeToDt[] = {kDtUnknown, kDtReg,  kDtDir,  kDtChr,
                                     kDtBlk,     kDtFifo, kDtSock, kDtLnk};

uint8_t mode_to_dt(uint16_t mode) {
    switch (mode & kTypeMask) {
        case kFifo:
            return kDtFifo;
        case kCharDevice:
            return kDtChr;
        case kDirectory:
            return kDtDir;
        case kBlockDevice:
            return kDtBlk;
        case kRegular:
            return kDtReg;
        case kSymlink:
            return kDtLnk;
        case kSocket:
            return kDtSock;
        default:
            return kDtUnknown;
    }
}

}  // namespace

// ext4_rec_len_from_disk(): 64 KiB blocks cannot store a 65536-byte record in 16 bits, so
// there 0 and 65535 mean the whole block and the low two bits carry bits 16-17.
uint32_t Volume::decode_rec_len(uint16_t raw) const {
    if (m_block_size < 65536) return raw;
    if (raw == 0 || raw == 0xffff) return m_block_size;
    return (raw & 0xfffcu) | uint32_t(raw & 3) << 16;
}

Result<Volume::Inode> Volume::load_directory(uint32_t ino) const {
    Inode dir = TRY(load_inode(ino));
    if (dir.type() != kDirectory) return Errno::NotDir;
    TRY(check_block_map(dir));
    // Whole blocks only, and no more of them than the filesystem has (holes are corruption
    // in a directory), which bounds every scan by the size of the device.
    if ((dir.size & (m_block_size - 1)) != 0) return Errno::Io;
    if ((dir.size >> m_block_shift) > m_blocks_count) return Errno::Io;
    return dir;
}

Result<bool> Volume::scan_entries(const Inode& dir, DirCursor& cursor, RawEntry& out) const {
    if (cursor.position % 4 != 0) return Errno::Inval;  // no entry starts there
    while (cursor.position < dir.size) {
        uint64_t index = cursor.position >> m_block_shift;
        uint32_t within = uint32_t(cursor.position & (m_block_size - 1));
        if (!cursor.mapped || index != cursor.index) {
            uint32_t block = TRY(map_block(dir, index));
            if (block == 0) return Errno::Io;
            cursor.block_base = uint64_t(block) << m_block_shift;
            cursor.index = index;
            cursor.mapped = true;
        }
        if (m_block_size - within < dirent::kMinRecLen) return Errno::Io;
        std::byte header[dirent::kHeaderSize];
        TRY(m_device->read(cursor.block_base + within, header));
        uint32_t ino = load_le32(header, dirent::kInode);
        uint32_t rec_len = decode_rec_len(load_le16(header, dirent::kRecLen));
        uint8_t name_length = uint8_t(header[dirent::kNameLen]);
        if (rec_len < dirent::kMinRecLen || rec_len % 4 != 0 || rec_len > m_block_size - within ||
            name_length + dirent::kHeaderSize > rec_len)
            return Errno::Io;
        cursor.position += rec_len;
        if (ino == 0) continue;  // deleted, or padding
        if (ino > m_inodes_count || name_length == 0) return Errno::Io;
        out.ino = ino;
        out.name_length = name_length;
        out.file_type = m_filetype ? uint8_t(header[dirent::kFileType]) : 0;
        out.name_offset = cursor.block_base + within + dirent::kHeaderSize;
        return true;
    }
    return false;
}

// The d_type of an entry: from the entry with FILETYPE, else (or for a code it does not
// know) from the inode's mode.
Result<uint8_t> Volume::entry_type(const RawEntry& entry) const {
    if (entry.file_type != 0 && entry.file_type < sizeof(kFileTypeToDt))
        return kFileTypeToDt[entry.file_type];
    Inode inode = TRY(load_inode(entry.ino));
    return mode_to_dt(inode.mode);
}

// The next live entry at the cursor, name and type filled in.
Result<bool> Volume::next_in(const Inode& dir, DirCursor& cursor, DirEntry& out) const {
    RawEntry entry;
    if (!TRY(scan_entries(dir, cursor, entry))) return false;
    auto name = std::as_writable_bytes(std::span<char>(out.name, entry.name_length));
    TRY(m_device->read(entry.name_offset, name));
    out.name[entry.name_length] = '\0';
    out.name_length = entry.name_length;
    out.ino = entry.ino;
    out.type = TRY(entry_type(entry));
    return true;
}

Result<bool> Volume::next_entry(uint32_t dir_ino, uint64_t& cookie, DirEntry& out) const {
    Inode dir = TRY(load_directory(dir_ino));
    DirCursor cursor{cookie};
    bool found = TRY(next_in(dir, cursor, out));
    cookie = cursor.position;
    return found;
}

Result<uint32_t> Volume::lookup(uint32_t dir_ino, std::string_view name) const {
    if (name.size() > kMaxNameLength) return Errno::NameTooLong;
    Inode dir = TRY(load_directory(dir_ino));
    if (name.empty()) return Errno::NoEnt;
    DirCursor cursor{0};
    RawEntry entry;
    char buffer[kMaxNameLength];
    while (TRY(scan_entries(dir, cursor, entry))) {
        if (entry.name_length != name.size()) continue;
        TRY(m_device->read(entry.name_offset,
                           std::as_writable_bytes(std::span<char>(buffer, entry.name_length))));
        if (std::string_view(buffer, entry.name_length) == name) return entry.ino;
    }
    return Errno::NoEnt;
}

}  // namespace lib::fs::ext2
