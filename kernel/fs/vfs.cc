// Path resolution and the root mount.
#include "kernel/fs/vfs.h"

#include "kernel/console/log.h"
#include "kernel/fs/disk_cache.h"
#include "kernel/fs/ext2_inode.h"
#include "kernel/mm/heap.h"

namespace kernel::fs {

namespace {

Inode* g_root = nullptr;

}  // namespace

lib::Result<Inode*> Inode::lookup(std::string_view) { return lib::Errno::NotDir; }

lib::Result<size_t> Inode::read(uint64_t, std::span<std::byte>) {
    return is_directory() ? lib::Errno::IsDir : lib::Errno::Inval;
}

lib::Result<size_t> Inode::read_link(std::span<char>) { return lib::Errno::Inval; }

lib::Result<bool> Inode::next_entry(uint64_t&, DirEntry&) { return lib::Errno::NotDir; }

lib::Result<uint64_t> Inode::cached_page(uint64_t) { return lib::Errno::OpNotSupp; }

Inode* root() {
    if (g_root) g_root->retain();
    return g_root;
}

bool has_root() { return g_root != nullptr; }

lib::ErrorOr mount_root(DiskCache& cache) {
    auto partition = find_linux_partition(cache);
    if (partition.is_error()) {
        klog("root: no Linux partition on the disk ({})", lib::errno_name(partition.error()));
        return partition.error();
    }
    auto* device = mm::try_make<PartitionDevice>(cache, partition.value().offset, partition.value().size);
    if (!device) return lib::Errno::NoMem;
    auto volume = lib::fs::ext2::Volume::mount(*device);
    if (volume.is_error()) {
        klog("root: the partition at {:#x} is not a usable ext2 filesystem ({})", partition.value().offset,
             lib::errno_name(volume.error()));
        return volume.error();
    }
    g_root = TRY(open_ext2_root(*device, volume.value()));
    klog("root: ext2, {} MiB, {}-byte blocks, read-only", partition.value().size >> 20, volume.value().block_size());
    return {};
}

lib::Result<Inode*> resolve(std::string_view path, Inode* base, bool follow_last) {
    if (path.empty()) return lib::Errno::NoEnt;
    if (path.size() >= kPathMax) return lib::Errno::NameTooLong;
    if (!g_root) return lib::Errno::NoEnt;
    // A stack of pending path pieces: the path, then symlink targets as they are met.
    struct Piece {
        std::string_view rest;
        char* storage;  // a symlink target's buffer, freed when the piece is done
    };
    Piece pieces[kMaxSymlinks + 1];
    int depth = 0, links = 0;
    pieces[0] = {path, nullptr};
    InodeRef current(path[0] == '/' || !base ? root() : (base->retain(), base));
    lib::Errno error{};
    bool failed = false;
    while (depth >= 0 && !failed) {
        Piece& piece = pieces[depth];
        while (!piece.rest.empty() && piece.rest[0] == '/') {
            piece.rest.remove_prefix(1);
        }
        if (piece.rest.empty()) {
            if (piece.storage) mm::kfree(piece.storage);
            --depth;
            continue;
        }
        size_t slash = piece.rest.find('/');
        std::string_view name = piece.rest.substr(0, slash);
        piece.rest = slash == std::string_view::npos ? std::string_view{} : piece.rest.substr(slash);
        if (name.size() > lib::fs::ext2::Volume::kMaxNameLength) {
            error = lib::Errno::NameTooLong;
            failed = true;
            break;
        }
        if (!current->is_directory()) {
            error = lib::Errno::NotDir;
            failed = true;
            break;
        }
        if (name == ".") continue;
        auto next_or = current->lookup(name);
        if (next_or.is_error()) {
            error = next_or.error();
            failed = true;
            break;
        }
        InodeRef next(next_or.value());
        // Is more path to come (in this piece or one below it)?
        bool last = true;
        for (int d = depth; d >= 0 && last; --d) {
            std::string_view rest = pieces[d].rest;
            while (!rest.empty() && rest[0] == '/') rest.remove_prefix(1);
            last = rest.empty();
        }
        bool trailing_slash = !piece.rest.empty();  // "dir/" must be a directory
        if (next->is_symlink() && (!last || follow_last || trailing_slash)) {
            if (++links > kMaxSymlinks || depth + 1 > kMaxSymlinks) {
                error = lib::Errno::Loop;
                failed = true;
                break;
            }
            auto* target = static_cast<char*>(mm::kmalloc(kPathMax));
            if (!target) {
                error = lib::Errno::NoMem;
                failed = true;
                break;
            }
            auto length = next->read_link({target, kPathMax});
            if (length.is_error() || length.value() == 0 || length.value() >= kPathMax) {
                mm::kfree(target);
                error = length.is_error() ? length.error() : lib::Errno::NoEnt;
                failed = true;
                break;
            }
            pieces[++depth] = {std::string_view(target, length.value()), target};
            if (target[0] == '/') current = InodeRef(root());
            continue;  // `current` stays the directory holding the link
        }
        current = std::move(next);
    }
    for (; depth >= 0; --depth)
        if (pieces[depth].storage) mm::kfree(pieces[depth].storage);
    if (failed) return error;
    if (path.back() == '/' && !current->is_directory()) return lib::Errno::NotDir;
    return current.take();
}

lib::Result<size_t> read_whole_file(std::string_view path, std::byte** out, size_t max_size) {
    InodeRef file(TRY(resolve(path, nullptr)));
    if (!file->is_regular()) return lib::Errno::Inval;
    if (file->size() > max_size) return lib::Errno::FBig;
    size_t size = size_t(file->size());
    auto* buffer = static_cast<std::byte*>(mm::kmalloc(size ? size : 1));
    if (!buffer) return lib::Errno::NoMem;
    size_t done = 0;
    while (done < size) {
        auto got = file->read(done, {buffer + done, size - done});
        if (got.is_error() || got.value() == 0) {
            mm::kfree(buffer);
            return got.is_error() ? got.error() : lib::Errno::Io;
        }
        done += got.value();
    }
    *out = buffer;
    return size;
}

}  // namespace kernel::fs
