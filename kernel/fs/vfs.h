// The VFS: inodes behind one interface, the mount table and path resolution. "/" is the
// image's ext2 filesystem, read-only, under a writable in-memory overlay (overlay.h): writes
// work and vanish at reboot; without a disk it is an empty tmpfs. /tmp is a tmpfs (memfs.h),
// /dev the devices (devfs.h), /proc and /sys generated files (procfs.h). Paths resolve the way
// Linux resolves them: "." and "..", symbolic links (at most 40 per lookup), trailing slashes
// demanding a directory, mount points crossed both ways.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "lib/base/format.h"
#include "lib/base/result.h"

namespace kernel::sys {
struct LinuxStat;
}

namespace kernel::fs {

class File;

inline constexpr uint32_t kTypeMask = 0170000, kTypeDirectory = 0040000, kTypeRegular = 0100000,
                          kTypeSymlink = 0120000, kTypeCharDevice = 0020000, kTypeSocket = 0140000;
inline constexpr uint32_t kPermissionMask = 07777;
inline constexpr size_t kPathMax = 4096;
inline constexpr size_t kNameMax = 255;
inline constexpr int kMaxSymlinks = 40;
inline constexpr unsigned kRenameNoReplace = 1;  // RENAME_NOREPLACE

// d_type values (DT_*), as getdents64 reports them.
inline constexpr uint8_t kDtUnknown = 0, kDtChr = 2, kDtDir = 4, kDtReg = 8, kDtLnk = 10;
uint8_t dt_type(uint32_t mode);

struct DirEntry {
    uint64_t ino;
    uint8_t type;  // a DT_* value
    uint8_t name_length;
    char name[256];  // name_length bytes, then a NUL
};

struct MappedPage {
    uint64_t frame;
    bool counted;
};

struct Timestamp {
    int64_t seconds;
    uint32_t nanoseconds;
};
Timestamp now();

// What statfs reports (struct statfs, in blocks of block_size).
struct FsStats {
    uint64_t type;  // f_type magic
    uint64_t block_size;
    uint64_t blocks, blocks_free, blocks_available;
    uint64_t files, files_free;
    uint64_t flags;  // ST_*
};

// Reference counted: lookups return a reference the caller must release(). Each filesystem
// (mount) has its own filesystem() identity; operations that take a second inode (rename,
// link) are only called with inodes of the same filesystem, so an implementation may cast it
// to its own type.
class Inode {
public:
    virtual ~Inode() = default;
    void retain() { ++m_references; }
    void release() {
        if (--m_references == 0) delete this;
    }
    // The caller holds the only reference (a release() would delete the inode).
    bool has_one_reference() const { return m_references == 1; }

    virtual uint32_t mode() const = 0;
    virtual uint64_t size() const = 0;
    virtual uint64_t ino() const = 0;
    virtual const void* filesystem() const = 0;
    virtual lib::ErrorOr stat(sys::LinuxStat& out) const = 0;
    virtual bool writable() const { return false; }
    virtual lib::Result<FsStats> statfs() const { return lib::Errno::NoSys; }

    // --- reading ---
    // The child `name` of this directory ("." and ".." included). NotDir for a non-directory.
    virtual lib::Result<Inode*> lookup(std::string_view name);
    // File data (regular files). IsDir for a directory.
    virtual lib::Result<size_t> read(uint64_t offset, std::span<std::byte> out);
    virtual lib::Result<size_t> read_link(std::span<char> out);
    // Directory entries, "." and ".." included; `cookie` starts at 0 (getdents64's d_off).
    virtual lib::Result<bool> next_entry(uint64_t& cookie, DirEntry& out);
    // A frame holding page `index` of the data right now, or NotSup when the data is not
    // page aligned in memory: to read from at once (copies, the loader's view of a program).
    virtual lib::Result<uint64_t> cached_page(uint64_t index);
    // A frame holding page `index` for a mapping to keep. `counted`: the caller now holds a
    // reference and lets go with mm::release_frame; otherwise the frame is a cache's that
    // stays valid for the life of the VM (never written through, never freed by the caller).
    // `for_write` (shared writable mappings): the file's own page, allocated if it is a hole;
    // NotSup where the data cannot be written through. Default: cached_page, uncounted.
    virtual lib::Result<MappedPage> map_page(uint64_t index, bool for_write);
    // A new open file description for this inode, holding its own reference; `path` is the
    // absolute path it was opened by (what /proc/self/fd shows), `flags` the O_* flags it
    // keeps. Files and directories get an InodeFile; devices (devfs.h) and generated files
    // (procfs.h) make their own. O_PATH descriptions are always InodeFiles.
    virtual lib::Result<File*> open(int flags, std::string_view path);

    // --- writing (defaults: ReadOnlyFs, or NotDir / IsDir where the type is wrong) ---
    // Before a description opened for writing exists: the overlay copies the file up here
    // (only its metadata when `truncating`).
    virtual lib::ErrorOr open_for_write(bool truncating);
    virtual lib::Result<size_t> write(uint64_t offset, std::span<const std::byte> data);
    virtual lib::ErrorOr truncate(uint64_t size);
    virtual lib::ErrorOr set_mode(uint32_t permissions);
    virtual lib::ErrorOr set_owner(uint32_t uid, uint32_t gid);
    // nullptr leaves that time alone; ctime becomes now.
    virtual lib::ErrorOr set_times(const Timestamp* atime, const Timestamp* mtime);

    // --- directories (names are single components, never "." or "..", at most kNameMax) ---
    // A new empty regular file (a new reference); Exist when the name is taken.
    virtual lib::Result<Inode*> create(std::string_view name, uint32_t permissions);
    virtual lib::ErrorOr make_directory(std::string_view name, uint32_t permissions);
    virtual lib::ErrorOr make_symlink(std::string_view name, std::string_view target);
    // A new special node of type and permissions `mode` (a new reference): so far only a
    // socket (S_IFSOCK, what bind() leaves for an AF_UNIX path), Inval for other types. It
    // holds no data and cannot be opened (the open path says NxIo). Exist when the name is
    // taken.
    virtual lib::Result<Inode*> make_node(std::string_view name, uint32_t mode);
    // A hard link `name` to `target` (a non-directory of this filesystem).
    virtual lib::ErrorOr link(std::string_view name, Inode& target);
    // unlink (`directory` false: IsDir for a directory) or rmdir (true: NotDir for anything
    // else, NotEmpty unless empty).
    virtual lib::ErrorOr remove(std::string_view name, bool directory);
    // POSIX rename to `to_dir` (this filesystem): replaces a target of a compatible type
    // (NotDir, IsDir, NotEmpty otherwise), Inval for a directory moved under itself, Exist
    // with kRenameNoReplace.
    virtual lib::ErrorOr rename(std::string_view from, Inode& to_dir, std::string_view to,
                                unsigned flags);

    bool is_directory() const { return (mode() & kTypeMask) == kTypeDirectory; }
    bool is_regular() const { return (mode() & kTypeMask) == kTypeRegular; }
    bool is_symlink() const { return (mode() & kTypeMask) == kTypeSymlink; }
    bool is_socket() const { return (mode() & kTypeMask) == kTypeSocket; }
    // Both name one file: the same filesystem and inode number (overlay inodes are made
    // afresh by every lookup, so pointers do not tell).
    bool same_file(const Inode& other) const {
        return filesystem() == other.filesystem() && ino() == other.ino();
    }

private:
    uint32_t m_references = 1;
};

// Owns one reference; releases it at the end of the scope unless take()n.
class InodeRef {
public:
    InodeRef() = default;
    explicit InodeRef(Inode* inode) : m_inode(inode) {}
    InodeRef(InodeRef&& other) : m_inode(other.m_inode) { other.m_inode = nullptr; }
    InodeRef& operator=(InodeRef&& other) {
        if (this != &other) {
            reset();
            m_inode = other.m_inode;
            other.m_inode = nullptr;
        }
        return *this;
    }
    InodeRef(const InodeRef&) = delete;
    InodeRef& operator=(const InodeRef&) = delete;
    ~InodeRef() { reset(); }
    Inode* get() const { return m_inode; }
    Inode* operator->() const { return m_inode; }
    explicit operator bool() const { return m_inode != nullptr; }
    Inode* take() {
        Inode* inode = m_inode;
        m_inode = nullptr;
        return inode;
    }
    void reset() {
        if (m_inode) m_inode->release();
        m_inode = nullptr;
    }

private:
    Inode* m_inode = nullptr;
};

// The root directory (a new reference), or nullptr before a root is mounted.
Inode* root();
bool has_root();
// "/" is the disk's filesystem (not the tmpfs that stands in without a disk).
bool root_on_disk();

// Mounts the ext2 filesystem of the disk's Linux partition as "/" under a writable overlay,
// then the system mounts (below). Logs what it mounted or why it could not.
lib::ErrorOr mount_root(class DiskCache& cache);
// Without a disk: an empty tmpfs as "/", then the system mounts, so that the program still
// finds /dev, /proc and /tmp.
lib::ErrorOr mount_memory_root();

// How /proc/self/mounts names a mount (text that lives for good).
struct MountLabel {
    std::string_view source;
    std::string_view type;
    std::string_view options;
};

// Mounts the tree `root` (takes over the reference) on the directory `path` (text that lives
// for good), creating that directory (mode 0755) when it is missing. Busy when something is
// mounted there already.
lib::ErrorOr mount(std::string_view path, Inode* root, const MountLabel& label);
// Something is mounted on this directory, or it is the root of a mount: rmdir and rename
// say Busy.
bool is_mount_point(const Inode& inode);
// /proc/self/mounts (`mountinfo` false) or /proc/self/mountinfo, as Linux formats them.
void format_mounts(lib::FormatSink& out, bool mountinfo);

// The absolute path a lookup walked to, built as it goes: each name appended, ".." dropping
// the last one, an absolute symlink target starting over at "/". What Linux's d_path gives
// for the dentry found (symlinks resolved), for /proc/self/fd, /proc/self/maps and getcwd.
class PathTrace {
public:
    PathTrace();
    ~PathTrace();
    PathTrace(const PathTrace&) = delete;
    PathTrace& operator=(const PathTrace&) = delete;

    // Starts from `directory` (absolute; "" or "/" for the root).
    void start(std::string_view directory);
    void restart() { m_length = 0; }
    void enter(std::string_view name);
    void leave();
    // The buffer exists and the path never outgrew PATH_MAX.
    bool ok() const { return m_buffer && !m_overflow; }
    std::string_view view() const { return m_length ? std::string_view(m_buffer, m_length) : "/"; }

private:
    char* m_buffer;
    size_t m_length = 0;  // "/a/b" without a trailing slash; 0 for "/"
    bool m_overflow = false;
};

// Resolves `path` from `base` (a directory; ignored for absolute paths). `follow_last`: a
// final symlink is followed (stat vs lstat). NoEnt, NotDir, Loop, NameTooLong as Linux.
// `trace`, when given, starts as base's path and ends as the path of what was found.
lib::Result<Inode*> resolve(std::string_view path, Inode* base, bool follow_last = true,
                            PathTrace* trace = nullptr);

// The directory that holds the last component of `path` and that component, for the calls
// that create or remove a name. `last` is empty for "/" and may be "." or ".." (the callers
// fail those the way each syscall does); `trailing_slash`: the path ended in '/'.
struct ParentPath {
    Inode* directory;  // a new reference
    std::string_view last;
    bool trailing_slash;
};
// `trace` ends as the directory's path.
lib::Result<ParentPath> resolve_parent(std::string_view path, Inode* base,
                                       PathTrace* trace = nullptr);

// Reads a whole small file (the manifest) into kernel memory. The caller kfree()s `*out`.
lib::Result<size_t> read_whole_file(std::string_view path, std::byte** out, size_t max_size);

}  // namespace kernel::fs
