// Phoenix disk images: an MBR with one Linux partition at 1 MiB holding an ext2 filesystem,
// written with libext2fs (docs/image.md). The same inputs give byte-identical images: entries
// are written in path order, timestamps are one fixed value, the UUID and hash seed come from
// a hash of the contents.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace phx {

inline constexpr uint64_t kPartitionOffset = 1ull << 20;
inline constexpr uint32_t kImageBlockSize = 4096;

// What goes into the filesystem, keyed by absolute image path ("/etc/hosts").
class ImageTree {
public:
    struct Entry {
        enum class Kind { Directory, File, Symlink } kind;
        uint16_t mode = 0;          // permission bits
        std::string host_path;      // File: copied from here, unless `bytes` is used
        std::vector<std::byte> bytes;
        bool from_bytes = false;
        std::string target;         // Symlink
    };

    // Each throws PhxError(kExitUsage) naming both when the path is already taken by
    // something different (the same thing twice is fine), or when the host path is missing.
    void add_directory(const std::string& path, uint16_t mode = 0755);
    void add_file(const std::string& path, const std::string& host_path);
    void add_bytes(const std::string& path, std::vector<std::byte> bytes, uint16_t mode = 0644);
    void add_symlink(const std::string& path, const std::string& target);
    // Installs the host file at the same absolute path, recreating every symlink met on the
    // way (a merged-/usr /lib -> usr/lib included), so the image resolves the path the way
    // the host does. Returns the image path of the final file.
    std::string add_host_path(const std::string& host_path);
    // Copies a host directory tree to `path` (files, directories, symlinks as they are).
    void add_host_tree(const std::string& host_dir, const std::string& path);

    bool contains(const std::string& path) const { return m_entries.count(path) != 0; }
    const std::map<std::string, Entry>& entries() const { return m_entries; }
    // Bytes of file content, for sizing the filesystem.
    uint64_t content_bytes() const;

private:
    void add(const std::string& path, Entry entry);
    void add_parents(const std::string& path);

    std::map<std::string, Entry> m_entries;
};

struct ImageOptions {
    uint64_t size_bytes = 0;  // the whole disk; 0: content plus room, at least 16 MiB
    uint64_t timestamp = 0;   // every inode and superblock time (SOURCE_DATE_EPOCH)
};

// Writes the disk image to `out_path` through a temporary file in the same directory, renamed
// into place only when complete. Throws PhxError (kExitUsage when the content does not fit a
// requested size, kExitVmFailed for libext2fs or I/O failures), leaving nothing behind.
void write_disk_image(const ImageTree& tree, const std::string& out_path, const ImageOptions& options);

// A file's bytes from inside an image (the runners read /boot/kernel this way). Throws
// PhxError(kExitUsage) when the image is not a Phoenix image or lacks the file.
std::vector<std::byte> read_image_file(const std::string& image_path, const std::string& path);

}  // namespace phx
