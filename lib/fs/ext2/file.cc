// File data: the classic ext2 block map (12 direct pointers, then single, double and triple
// indirect blocks), read one 4-byte pointer at a time, and the reads built on it. The depth is
// fixed by the index, so a cycle in the indirect blocks cannot make a walk longer.
#include "lib/fs/ext2/volume.h"

namespace lib::fs::ext2 {

using namespace layout;

namespace {

constexpr uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

}  // namespace

// Data that is not a plain block map (extents, inline data, ciphertext) is refused.
ErrorOr Volume::check_block_map(const Inode& inode) const {
    if (inode.flags & kUnreadableFlags) return Errno::OpNotSupp;
    return {};
}

Result<uint32_t> Volume::read_pointer(uint32_t block, uint64_t slot) const {
    std::byte raw[4];
    TRY(m_device->read((uint64_t(block) << m_block_shift) + slot * 4, raw));
    return load_le32(raw, 0);
}

// Follows `depth` levels of indirect blocks from `block` to the data block for `index`
// (counted from the first block this tree maps). 0 anywhere on the way is a hole.
Result<uint32_t> Volume::walk_indirect(uint32_t block, unsigned depth, uint64_t index) const {
    unsigned slot_bits = m_block_shift - 2;  // log2 of the pointers per block
    uint64_t slot_mask = (uint64_t(1) << slot_bits) - 1;
    for (unsigned level = depth; level > 0; --level) {
        if (block == 0) return uint32_t(0);
        if (block >= m_blocks_count) return Errno::Io;
        block = TRY(read_pointer(block, (index >> (slot_bits * (level - 1))) & slot_mask));
    }
    if (block >= m_blocks_count) return Errno::Io;
    return block;
}

Result<uint32_t> Volume::map_block(const Inode& inode, uint64_t index) const {
    if (index < kDirectBlocks) {
        uint32_t block = inode.block[index];
        if (block >= m_blocks_count) return Errno::Io;
        return block;
    }
    index -= kDirectBlocks;
    unsigned slot_bits = m_block_shift - 2;
    for (unsigned depth = 1; depth <= 3; ++depth) {
        uint64_t mapped = uint64_t(1) << (slot_bits * depth);  // at most 2^42
        if (index < mapped)
            return walk_indirect(inode.block[kIndirectSlot + depth - 1], depth, index);
        index -= mapped;
    }
    return Errno::Io;  // beyond what a block map reaches: the size is corrupt
}

Result<size_t> Volume::read_data(const Inode& inode, uint64_t offset,
                                 std::span<std::byte> out) const {
    if (offset >= inode.size) return size_t(0);
    size_t count = size_t(min_u64(out.size(), inode.size - offset));
    if (is_fast_symlink(inode)) {
        // The target is the first i_size bytes of i_block (e2fsprogs and Linux both keep it
        // under 60 bytes, leaving room for a NUL).
        if (inode.size >= kInlineBytes) return Errno::Io;
        for (size_t i = 0; i < count; ++i) {
            uint64_t at = offset + i;
            out[i] = std::byte(inode.block[at / 4] >> (8 * (at % 4)));
        }
        return count;
    }
    TRY(check_block_map(inode));
    size_t done = 0;
    while (done < count) {
        uint64_t position = offset + done;
        uint64_t within = position & (m_block_size - 1);
        size_t chunk = size_t(min_u64(m_block_size - within, count - done));
        uint32_t block = TRY(map_block(inode, position >> m_block_shift));
        std::span<std::byte> piece = out.subspan(done, chunk);
        if (block == 0)
            __builtin_memset(piece.data(), 0, chunk);
        else
            TRY(m_device->read((uint64_t(block) << m_block_shift) + within, piece));
        done += chunk;
    }
    return count;
}

// e2fsck: a slow symlink's target fits in its one block with room for a NUL.
ErrorOr Volume::check_symlink(const Inode& inode) const {
    if (!is_fast_symlink(inode) && inode.size >= m_block_size) return Errno::Io;
    return {};
}

Result<size_t> Volume::read(uint32_t ino, uint64_t offset, std::span<std::byte> out) const {
    Inode inode = TRY(load_inode(ino));
    if (inode.type() == kDirectory) return Errno::IsDir;
    if (inode.type() == kSymlink)
        TRY(check_symlink(inode));
    else if (inode.type() != kRegular)
        return Errno::Inval;
    return read_data(inode, offset, out);
}

Result<size_t> Volume::read_link(uint32_t ino, std::span<char> out) const {
    Inode inode = TRY(load_inode(ino));
    if (inode.type() != kSymlink) return Errno::Inval;
    TRY(check_symlink(inode));
    return read_data(inode, 0, std::as_writable_bytes(out));
}

Result<uint64_t> Volume::block_offset(uint32_t ino, uint64_t index) const {
    Inode inode = TRY(load_inode(ino));
    uint16_t type = inode.type();
    if (type != kRegular && type != kDirectory && type != kSymlink) return Errno::Inval;
    if (is_fast_symlink(inode)) return Errno::Inval;
    TRY(check_block_map(inode));
    // Blocks that hold any byte below i_size: index < ceil(size / block size).
    uint64_t blocks = (inode.size >> m_block_shift) + ((inode.size & (m_block_size - 1)) != 0);
    if (index >= blocks) return Errno::Inval;
    uint32_t block = TRY(map_block(inode, index));
    return uint64_t(block) << m_block_shift;
}

Result<size_t> Volume::block_offsets(uint32_t ino, uint64_t first, std::span<uint64_t> out) const {
    Inode inode = TRY(load_inode(ino));
    uint16_t type = inode.type();
    if (type != kRegular && type != kDirectory && type != kSymlink) return Errno::Inval;
    if (is_fast_symlink(inode)) return Errno::Inval;
    TRY(check_block_map(inode));
    uint64_t blocks = (inode.size >> m_block_shift) + ((inode.size & (m_block_size - 1)) != 0);
    uint64_t limit = first < blocks ? min_u64(out.size(), blocks - first) : 0;
    unsigned slot_bits = m_block_shift - 2;
    uint64_t per_block = uint64_t(1) << slot_bits;
    size_t count = 0;
    while (count < limit) {
        uint64_t index = first + count;
        if (index < kDirectBlocks) {
            out[count++] = uint64_t(TRY(map_block(inode, index))) << m_block_shift;
            continue;
        }
        // The pointers that share this one's last-level indirect block, in one device read
        // (a pointer at a time was most of the cost of mapping a file in the kernel).
        uint64_t rest = index - kDirectBlocks;
        unsigned depth = 1;
        while (depth <= 3 && rest >= (uint64_t(1) << (slot_bits * depth))) rest -= uint64_t(1) << (slot_bits * depth++);
        if (depth > 3) return Errno::Io;
        uint32_t leaf = depth == 1 ? inode.block[kIndirectSlot]
                                   : TRY(walk_indirect(inode.block[kIndirectSlot + depth - 1], depth - 1, rest >> slot_bits));
        if (leaf >= m_blocks_count) return Errno::Io;
        uint64_t slot = rest & (per_block - 1);
        constexpr uint64_t kBatch = 64;
        uint64_t run = min_u64(min_u64(limit - count, per_block - slot), kBatch);
        if (leaf == 0) {  // a hole over the whole leaf
            for (uint64_t i = 0; i < run; ++i) out[count++] = 0;
            continue;
        }
        std::byte raw[kBatch * 4];
        TRY(m_device->read((uint64_t(leaf) << m_block_shift) + slot * 4, std::span(raw, run * 4)));
        for (uint64_t i = 0; i < run; ++i) {
            uint32_t block = load_le32(raw, i * 4);
            if (block >= m_blocks_count) return Errno::Io;
            out[count++] = uint64_t(block) << m_block_shift;
        }
    }
    return count;
}

}  // namespace lib::fs::ext2
