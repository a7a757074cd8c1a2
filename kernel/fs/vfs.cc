// The Inode defaults, the mount table, path resolution and the root mount.
#include "kernel/fs/vfs.h"

#include "kernel/console/log.h"
#include "kernel/fs/disk_cache.h"
#include "kernel/fs/ext2_inode.h"
#include "kernel/fs/memfs.h"
#include "kernel/fs/overlay.h"
#include "kernel/mm/heap.h"
#include "kernel/time/clock.h"

namespace kernel::fs {

namespace {

constexpr uint64_t kTmpfsMagic = 0x01021994;
constexpr uint64_t kTmpDev = 0x20;               // an anonymous device, 0:32
constexpr uint64_t kUpperFirstIno = 1ull << 32;  // above every ext2 inode number

// A tree mounted on a directory. Directories are told apart by (filesystem, inode number):
// inode objects are made per lookup, so pointers do not identify them.
struct Mount {
    const void* covered_fs;
    uint64_t covered_ino;
    Inode* covered;  // the directory mounted on (its "..": the way out)
    Inode* root;
};
constexpr size_t kMaxMounts = 8;

Inode* g_root = nullptr;
Mount g_mounts[kMaxMounts];
size_t g_mount_count = 0;

const Mount* mounted_on(const Inode& dir) {
    for (size_t i = 0; i < g_mount_count; ++i)
        if (g_mounts[i].covered_ino == dir.ino() && g_mounts[i].covered_fs == dir.filesystem())
            return &g_mounts[i];
    return nullptr;
}

const Mount* root_of(const Inode& dir) {
    for (size_t i = 0; i < g_mount_count; ++i)
        if (g_mounts[i].root->ino() == dir.ino() &&
            g_mounts[i].root->filesystem() == dir.filesystem())
            return &g_mounts[i];
    return nullptr;
}

// `inode` itself, or the root of what is mounted on it (a directory can be mounted on once).
InodeRef cross_into(InodeRef inode) {
    if (g_mount_count == 0 || !inode->is_directory()) return inode;
    if (const Mount* mount = mounted_on(*inode.get())) {
        mount->root->retain();
        return InodeRef(mount->root);
    }
    return inode;
}

// The step for one name; ".." at a mount's root leaves it through the covered directory.
lib::Result<Inode*> step(Inode& current, std::string_view name) {
    if (name == ".." && g_mount_count) {
        if (const Mount* mount = root_of(current)) return mount->covered->lookup("..");
    }
    InodeRef next(TRY(current.lookup(name)));
    if (name == "..") return next.take();
    return cross_into(std::move(next)).take();
}

// A symlink's target in a new heap buffer (the caller kfree()s its data()). Most targets fit
// the heap's largest size class; PATH_MAX takes a two-frame block.
lib::Result<std::string_view> link_target(Inode& link) {
    constexpr size_t kCapacities[] = {2032, kPathMax};
    for (size_t capacity : kCapacities) {
        auto* buffer = static_cast<char*>(mm::kmalloc(capacity));
        if (!buffer) return lib::Errno::NoMem;
        auto length = link.read_link({buffer, capacity});
        if (length.has_value() && length.value() > 0 && length.value() < capacity)
            return std::string_view(buffer, length.value());
        mm::kfree(buffer);
        if (length.is_error()) return length.error();
        if (length.value() == 0) return lib::Errno::NoEnt;
    }
    return lib::Errno::NoEnt;  // PATH_MAX or longer
}

}  // namespace

// --- Inode defaults ---

lib::Result<Inode*> Inode::lookup(std::string_view) { return lib::Errno::NotDir; }

lib::Result<size_t> Inode::read(uint64_t, std::span<std::byte>) {
    return is_directory() ? lib::Errno::IsDir : lib::Errno::Inval;
}

lib::Result<size_t> Inode::read_link(std::span<char>) { return lib::Errno::Inval; }

lib::Result<bool> Inode::next_entry(uint64_t&, DirEntry&) { return lib::Errno::NotDir; }

lib::Result<uint64_t> Inode::cached_page(uint64_t) { return lib::Errno::OpNotSupp; }

lib::ErrorOr Inode::open_for_write(bool) {
    return is_directory() ? lib::Errno::IsDir : lib::Errno::ReadOnlyFs;
}

lib::Result<size_t> Inode::write(uint64_t, std::span<const std::byte>) {
    return is_directory() ? lib::Errno::IsDir : lib::Errno::ReadOnlyFs;
}

lib::ErrorOr Inode::truncate(uint64_t) {
    return is_directory() ? lib::Errno::IsDir : lib::Errno::ReadOnlyFs;
}

lib::ErrorOr Inode::set_mode(uint32_t) { return lib::Errno::ReadOnlyFs; }

lib::ErrorOr Inode::set_owner(uint32_t, uint32_t) { return lib::Errno::ReadOnlyFs; }

lib::ErrorOr Inode::set_times(const Timestamp*, const Timestamp*) { return lib::Errno::ReadOnlyFs; }

lib::Result<Inode*> Inode::create(std::string_view, uint32_t) {
    return is_directory() ? lib::Errno::ReadOnlyFs : lib::Errno::NotDir;
}

lib::ErrorOr Inode::make_directory(std::string_view, uint32_t) {
    return is_directory() ? lib::Errno::ReadOnlyFs : lib::Errno::NotDir;
}

lib::ErrorOr Inode::make_symlink(std::string_view, std::string_view) {
    return is_directory() ? lib::Errno::ReadOnlyFs : lib::Errno::NotDir;
}

lib::ErrorOr Inode::link(std::string_view, Inode&) {
    return is_directory() ? lib::Errno::ReadOnlyFs : lib::Errno::NotDir;
}

lib::ErrorOr Inode::remove(std::string_view, bool) {
    return is_directory() ? lib::Errno::ReadOnlyFs : lib::Errno::NotDir;
}

lib::ErrorOr Inode::rename(std::string_view, Inode&, std::string_view, unsigned) {
    return is_directory() ? lib::Errno::ReadOnlyFs : lib::Errno::NotDir;
}

uint8_t dt_type(uint32_t mode) {
    switch (mode & kTypeMask) {
        case kTypeDirectory:
            return kDtDir;
        case kTypeRegular:
            return kDtReg;
        case kTypeSymlink:
            return kDtLnk;
        default:
            return uint8_t((mode & kTypeMask) >> 12);  // DT_* is the S_IFMT type shifted down
    }
}

Timestamp now() {
    uint64_t ns = time::realtime_ns();
    return {int64_t(ns / 1000000000), uint32_t(ns % 1000000000)};
}

// --- mounts ---

Inode* root() {
    if (g_root) g_root->retain();
    return g_root;
}

bool has_root() { return g_root != nullptr; }

bool is_mount_point(const Inode& inode) {
    return inode.is_directory() && (mounted_on(inode) || root_of(inode) || &inode == g_root);
}

lib::ErrorOr mount(std::string_view path, Inode* tree) {
    InodeRef root_ref(tree);
    if (g_mount_count == kMaxMounts) return lib::Errno::Busy;
    auto found = resolve(path, nullptr);
    if (found.is_error() && found.error() == lib::Errno::NoEnt) {
        ParentPath parent = TRY(resolve_parent(path, nullptr));
        InodeRef directory(parent.directory);
        TRY(directory->make_directory(parent.last, 0755));
        found = resolve(path, nullptr);
    }
    InodeRef covered(TRY(found));
    if (!covered->is_directory()) return lib::Errno::NotDir;
    if (root_of(*covered.get())) return lib::Errno::Busy;  // resolve crossed into a mount
    g_mounts[g_mount_count++] = {covered->filesystem(), covered->ino(), covered.take(),
                                 root_ref.take()};
    return {};
}

lib::ErrorOr mount_root(DiskCache& cache) {
    auto partition = find_linux_partition(cache);
    if (partition.is_error()) {
        klog("root: no Linux partition on the disk ({})", lib::errno_name(partition.error()));
        return partition.error();
    }
    auto* device =
        mm::try_make<PartitionDevice>(cache, partition.value().offset, partition.value().size);
    if (!device) return lib::Errno::NoMem;
    auto volume = lib::fs::ext2::Volume::mount(*device);
    if (volume.is_error()) {
        klog("root: the partition at {:#x} is not a usable ext2 filesystem ({})",
             partition.value().offset, lib::errno_name(volume.error()));
        return volume.error();
    }
    Inode* lower = TRY(open_ext2_root(*device, volume.value()));
    Memfs* upper = TRY(Memfs::create({kOverlayDev, kUpperFirstIno, 0, 0755}));
    g_root = TRY(make_overlay(*upper, lower));
    klog("root: ext2, {} MiB, {}-byte blocks, read-only under an in-memory overlay",
         partition.value().size >> 20, volume.value().block_size());
    Memfs* tmp = TRY(Memfs::create({kTmpDev, 2, kTmpfsMagic, 01777}));
    tmp->root().retain();
    if (auto mounted = mount("/tmp", &tmp->root()); mounted.is_error()) {
        klog("tmp: cannot mount a tmpfs on /tmp ({})", lib::errno_name(mounted.error()));
        return mounted.error();
    }
    return {};
}

// --- paths ---

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
        piece.rest =
            slash == std::string_view::npos ? std::string_view{} : piece.rest.substr(slash);
        if (name.size() > kNameMax) {
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
        auto next_or = step(*current.get(), name);
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
            auto target = link_target(*next.get());
            if (target.is_error()) {
                error = target.error();
                failed = true;
                break;
            }
            pieces[++depth] = {target.value(), const_cast<char*>(target.value().data())};
            if (target.value()[0] == '/') current = InodeRef(root());
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

lib::Result<ParentPath> resolve_parent(std::string_view path, Inode* base) {
    if (path.empty()) return lib::Errno::NoEnt;
    if (path.size() >= kPathMax) return lib::Errno::NameTooLong;
    size_t end = path.size();
    while (end > 0 && path[end - 1] == '/') --end;
    bool trailing_slash = end < path.size();
    std::string_view head = path.substr(0, end);
    size_t slash = head.rfind('/');
    std::string_view last = slash == std::string_view::npos ? head : head.substr(slash + 1);
    if (last.size() > kNameMax) return lib::Errno::NameTooLong;
    Inode* directory = nullptr;
    if (slash == std::string_view::npos) {
        if (end == 0) {  // only slashes: "/"
            directory = root();
            if (!directory) return lib::Errno::NoEnt;
        } else {
            if (!base) base = g_root;
            if (!base) return lib::Errno::NoEnt;
            base->retain();
            directory = base;
        }
    } else {
        directory = TRY(resolve(path.substr(0, slash + 1), base, true));
    }
    if (!directory->is_directory()) {
        directory->release();
        return lib::Errno::NotDir;
    }
    return ParentPath{directory, last, trailing_slash};
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
