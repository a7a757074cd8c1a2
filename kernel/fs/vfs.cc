// The mount table, the boot mounts and path resolution.
#include "kernel/fs/vfs.h"

#include "kernel/console/log.h"
#include "kernel/fs/devfs.h"
#include "kernel/fs/disk_cache.h"
#include "kernel/fs/ext2_inode.h"
#include "kernel/fs/memfs.h"
#include "kernel/fs/overlay.h"
#include "kernel/fs/procfs.h"
#include "kernel/mm/heap.h"
#include "kernel/sys/linux_types.h"

namespace kernel::fs {

namespace {

constexpr uint64_t kTmpfsMagic = 0x01021994;
constexpr uint64_t kTmpDev = 0x20;               // anonymous devices: 0:32
constexpr uint64_t kShmDev = 0x19;               // 0:25
constexpr uint64_t kMemoryRootDev = 0x02;        // 0:2, Linux's rootfs
constexpr uint64_t kUpperFirstIno = 1ull << 32;  // above every ext2 inode number

// A tree mounted on a directory. Directories are told apart by (filesystem, inode number):
// inode objects are made per lookup, so pointers do not identify them.
struct Mount {
    const void* covered_fs;
    uint64_t covered_ino;
    Inode* covered;  // the directory mounted on (its "..": the way out)
    Inode* root;
    std::string_view path;
    MountLabel label;
};
constexpr size_t kMaxMounts = 8;

Inode* g_root = nullptr;
MountLabel g_root_label;
bool g_root_on_disk = false;
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

// --- mounts ---

Inode* root() {
    if (g_root) g_root->retain();
    return g_root;
}

bool has_root() { return g_root != nullptr; }

bool root_on_disk() { return g_root_on_disk; }

bool is_mount_point(const Inode& inode) {
    return inode.is_directory() && (mounted_on(inode) || root_of(inode) || &inode == g_root);
}

lib::ErrorOr mount(std::string_view path, Inode* tree, const MountLabel& label) {
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
                                 root_ref.take(), path, label};
    return {};
}

namespace {

// A tmpfs (its root directory mode `mode`) on `path`.
lib::ErrorOr mount_tmpfs(std::string_view path, uint64_t dev, uint32_t mode,
                         std::string_view options) {
    Memfs* fs = TRY(Memfs::create({dev, 2, kTmpfsMagic, mode}));
    fs->root().retain();
    return mount(path, &fs->root(), {"tmpfs", "tmpfs", options});
}

// The directories the system mounts cover, made up front in the root's memfs (the overlay's
// upper layer): opaque, so that finding them never searches the image's ext2 root directory
// (each miss there costs milliseconds of boot in emulated ring 0). Whatever the image holds
// at those names, the mounts hide it anyway.
lib::ErrorOr make_mount_points(MemInode& root) {
    for (std::string_view name : {"tmp", "dev", "proc", "sys"}) {
        auto made = root.add_child(name, kTypeDirectory | 0755);
        if (made.is_error()) return made.error();
        made.value()->set_opaque(true);
        made.value()->release();
    }
    return {};
}

// What every root gets: /tmp, /dev (with /dev/shm for POSIX shared memory), /proc, /sys.
lib::ErrorOr mount_system() {
    auto report = [](std::string_view path, lib::ErrorOr result) {
        if (result.is_error()) klog("{}: cannot mount ({})", path, lib::errno_name(result.error()));
        return result;
    };
    TRY(report("/tmp", mount_tmpfs("/tmp", kTmpDev, 01777, "rw,nosuid,nodev,relatime")));
    TRY(report("/dev", mount("/dev", TRY(make_devfs_root()),
                             {"devtmpfs", "devtmpfs", "rw,nosuid,relatime,mode=755"})));
    TRY(report("/dev/shm", mount_tmpfs("/dev/shm", kShmDev, 01777, "rw,nosuid,nodev")));
    TRY(report("/proc", mount("/proc", TRY(make_procfs_root()),
                              {"proc", "proc", "rw,nosuid,nodev,noexec,relatime"})));
    TRY(report("/sys", mount("/sys", TRY(make_sysfs_root()),
                             {"sysfs", "sysfs", "rw,nosuid,nodev,noexec,relatime"})));
    return {};
}

// Linux's dev_t as stat reports it, split into major and minor.
uint32_t major_of(uint64_t dev) { return uint32_t((dev >> 8) & 0xfff); }
uint32_t minor_of(uint64_t dev) { return uint32_t((dev & 0xff) | ((dev >> 12) & 0xfff00)); }

void format_mount(lib::FormatSink& out, bool mountinfo, size_t id, size_t parent, Inode& root,
                  std::string_view path, const MountLabel& label) {
    if (!mountinfo) {
        lib::format_to(out, "{} {} {} {} 0 0\n", label.source, path, label.type, label.options);
        return;
    }
    sys::LinuxStat st{};
    (void)root.stat(st);
    // mount ID, parent ID, major:minor, root, mount point, options, "-", type, source, super
    lib::format_to(out, "{} {} {}:{} / {} {} - {} {} rw\n", id, parent, major_of(st.dev),
                   minor_of(st.dev), path, label.options, label.type, label.source);
}

}  // namespace

void format_mounts(lib::FormatSink& out, bool mountinfo) {
    if (!g_root) return;
    // IDs as Linux numbers them: the root's first; a mount's parent is the mount its covered
    // directory belongs to.
    constexpr size_t kFirstId = 21;
    format_mount(out, mountinfo, kFirstId, 1, *g_root, "/", g_root_label);
    for (size_t i = 0; i < g_mount_count; ++i) {
        size_t parent = kFirstId;
        for (size_t j = 0; j < g_mount_count; ++j)
            if (g_mounts[j].root->filesystem() == g_mounts[i].covered_fs) parent = kFirstId + 1 + j;
        format_mount(out, mountinfo, kFirstId + 1 + i, parent, *g_mounts[i].root, g_mounts[i].path,
                     g_mounts[i].label);
    }
}

lib::ErrorOr mount_memory_root() {
    Memfs* fs = TRY(Memfs::create({kMemoryRootDev, 2, kTmpfsMagic, 0755}));
    TRY(make_mount_points(fs->root()));
    fs->root().retain();
    g_root = &fs->root();
    g_root_label = {"rootfs", "tmpfs", "rw"};
    klog("root: no disk, an empty tmpfs");
    return mount_system();
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
    TRY(make_mount_points(upper->root()));
    g_root = TRY(make_overlay(*upper, lower));
    g_root_label = {"overlay", "overlay", "rw,relatime,lowerdir=/dev/vda1"};
    g_root_on_disk = true;
    klog("root: ext2, {} MiB, {}-byte blocks, read-only under an in-memory overlay",
         partition.value().size >> 20, volume.value().block_size());
    return mount_system();
}

// --- paths ---

lib::Result<Inode*> resolve(std::string_view path, Inode* base, bool follow_last,
                            PathTrace* trace) {
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
    if (trace && (path[0] == '/' || !base)) trace->restart();
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
            if (target.value()[0] == '/') {
                current = InodeRef(root());
                if (trace) trace->restart();
            }
            continue;  // `current` stays the directory holding the link
        }
        if (trace) trace->enter(name);
        current = std::move(next);
    }
    for (; depth >= 0; --depth)
        if (pieces[depth].storage) mm::kfree(pieces[depth].storage);
    if (failed) return error;
    if (path.back() == '/' && !current->is_directory()) return lib::Errno::NotDir;
    return current.take();
}

lib::Result<ParentPath> resolve_parent(std::string_view path, Inode* base, PathTrace* trace) {
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
            if (trace) trace->restart();
        } else {
            if (!base) {
                base = g_root;
                if (trace) trace->restart();
            }
            if (!base) return lib::Errno::NoEnt;
            base->retain();
            directory = base;
        }
    } else {
        directory = TRY(resolve(path.substr(0, slash + 1), base, true, trace));
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
