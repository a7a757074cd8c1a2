// The VFS: inodes behind one interface, path resolution, and the root mount. Today the root is
// the image's ext2 filesystem, read-only (the writable in-memory overlay, /tmp, /dev and /proc
// come next, issue #4); paths resolve the way Linux resolves them: "." and "..", symbolic
// links (at most 40 per lookup), trailing slashes demanding a directory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "lib/base/result.h"
#include "lib/fs/ext2/volume.h"

namespace kernel::sys {
struct LinuxStat;
}

namespace kernel::fs {

inline constexpr uint32_t kTypeMask = 0170000, kTypeDirectory = 0040000, kTypeRegular = 0100000,
                          kTypeSymlink = 0120000;
inline constexpr size_t kPathMax = 4096;
inline constexpr int kMaxSymlinks = 40;

using DirEntry = lib::fs::ext2::DirEntry;

// Reference counted: lookups return a reference the caller must release().
class Inode {
public:
    virtual ~Inode() = default;
    void retain() { ++m_references; }
    void release() {
        if (--m_references == 0) delete this;
    }

    virtual uint32_t mode() const = 0;
    virtual uint64_t size() const = 0;
    virtual lib::ErrorOr stat(sys::LinuxStat& out) const = 0;
    // The child `name` of this directory. NotDir for a non-directory.
    virtual lib::Result<Inode*> lookup(std::string_view name);
    // File data (regular files). IsDir for a directory.
    virtual lib::Result<size_t> read(uint64_t offset, std::span<std::byte> out);
    virtual lib::Result<size_t> read_link(std::span<char> out);
    // Directory entries, "." and ".." included; `cookie` starts at 0 (getdents64's d_off).
    virtual lib::Result<bool> next_entry(uint64_t& cookie, DirEntry& out);
    // A frame holding page `index` of the data, owned by the page cache (never freed, never
    // written through), or NotSup when the data is not page aligned on its device.
    virtual lib::Result<uint64_t> cached_page(uint64_t index);

    bool is_directory() const { return (mode() & kTypeMask) == kTypeDirectory; }
    bool is_regular() const { return (mode() & kTypeMask) == kTypeRegular; }
    bool is_symlink() const { return (mode() & kTypeMask) == kTypeSymlink; }

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

// The root directory (a new reference), or nullptr before mount_root().
Inode* root();
bool has_root();

// Mounts the ext2 filesystem of the disk's Linux partition as "/". Logs what it mounted or
// why it could not.
lib::ErrorOr mount_root(class DiskCache& cache);

// Resolves `path` from `base` (a directory; ignored for absolute paths). `follow_last`: a
// final symlink is followed (stat vs lstat). NoEnt, NotDir, Loop, NameTooLong as Linux.
lib::Result<Inode*> resolve(std::string_view path, Inode* base, bool follow_last = true);

// Reads a whole small file (the manifest) into kernel memory. The caller kfree()s `*out`.
lib::Result<size_t> read_whole_file(std::string_view path, std::byte** out, size_t max_size);

}  // namespace kernel::fs
