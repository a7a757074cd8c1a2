// The image tree (what goes where) and its writer and reader on top of libext2fs.
#include "phx/image/disk_image.h"

#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "phx/error.h"
#include "phx/file_io.h"

namespace phx {

namespace {

namespace fs = std::filesystem;

constexpr uint32_t kInodeSize = 256;

// "/a//b/./c/../d" -> "/a/b/d"; the path must be absolute. Lexical, as image paths are.
std::string normalize(const std::string& path) {
    if (path.empty() || path[0] != '/') throw PhxError(kExitUsage, "image path '" + path + "' is not absolute");
    std::vector<std::string> parts;
    size_t at = 0;
    while (at < path.size()) {
        size_t end = path.find('/', at);
        if (end == std::string::npos) end = path.size();
        std::string part = path.substr(at, end - at);
        if (part == "..") {
            if (!parts.empty()) parts.pop_back();
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        at = end + 1;
    }
    std::string out;
    for (const auto& part : parts) out += "/" + part;
    return out.empty() ? "/" : out;
}

std::string parent_of(const std::string& path) {
    size_t slash = path.rfind('/');
    return slash == 0 ? "/" : path.substr(0, slash);
}

std::string name_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }

const char* kind_name(ImageTree::Entry::Kind kind) {
    switch (kind) {
        case ImageTree::Entry::Kind::Directory:
            return "a directory";
        case ImageTree::Entry::Kind::File:
            return "a file";
        case ImageTree::Entry::Kind::Symlink:
            return "a symbolic link";
    }
    return "?";
}

bool same(const ImageTree::Entry& a, const ImageTree::Entry& b) {
    if (a.kind != b.kind) return false;
    switch (a.kind) {
        case ImageTree::Entry::Kind::Directory:
            return true;
        case ImageTree::Entry::Kind::Symlink:
            return a.target == b.target;
        case ImageTree::Entry::Kind::File:
            return a.from_bytes == b.from_bytes && a.host_path == b.host_path && a.bytes == b.bytes;
    }
    return false;
}

// FNV-1a, 64 bits: a stable hash of the contents for the UUID (not for security).
class Fnv {
public:
    void add(const void* data, size_t size) {
        auto* p = static_cast<const unsigned char*>(data);
        for (size_t i = 0; i < size; ++i) m_state = (m_state ^ p[i]) * 0x100000001b3ull;
    }
    void add(const std::string& text) { add(text.data(), text.size() + 1); }
    uint64_t value() const { return m_state; }

private:
    uint64_t m_state = 0xcbf29ce484222325ull;
};

[[noreturn]] void ext2_failure(const std::string& what, errcode_t code) {
    throw PhxError(kExitVmFailed, "building the image: " + what + ": " + error_message(code));
}

// Deletes the temporary image unless the build got to the end.
class TempImage {
public:
    explicit TempImage(const std::string& out_path) {
        std::string pattern = out_path + ".tmp-XXXXXX";
        std::vector<char> name(pattern.begin(), pattern.end());
        name.push_back('\0');
        int fd = mkstemp(name.data());
        if (fd < 0)
            throw PhxError(kExitUsage, "cannot create " + out_path + ": " + std::strerror(errno));
        close(fd);
        m_path = name.data();
    }
    ~TempImage() {
        if (!m_kept) unlink(m_path.c_str());
    }
    const std::string& path() const { return m_path; }
    void keep_as(const std::string& out_path) {
        if (rename(m_path.c_str(), out_path.c_str()) != 0)
            throw PhxError(kExitVmFailed, "cannot rename the image to " + out_path + ": " + std::strerror(errno));
        m_kept = true;
    }

private:
    std::string m_path;
    bool m_kept = false;
};

class Ext2Writer {
public:
    Ext2Writer(const std::string& path, uint64_t fs_bytes, uint32_t inodes, uint64_t timestamp)
        : m_timestamp(timestamp) {
        ext2_super_block param{};
        ext2fs_blocks_count_set(&param, fs_bytes / kImageBlockSize);
        param.s_log_block_size = 2;  // 1024 << 2
        param.s_rev_level = EXT2_DYNAMIC_REV;
        param.s_inode_size = kInodeSize;
        param.s_inodes_count = inodes;
        param.s_feature_incompat = EXT2_FEATURE_INCOMPAT_FILETYPE;
        param.s_feature_ro_compat = EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER | EXT2_FEATURE_RO_COMPAT_LARGE_FILE;
        param.s_feature_compat = 0;  // no dir_index (hashes), no resize inode
        errcode_t err = ext2fs_initialize(path.c_str(), EXT2_FLAG_RW | EXT2_FLAG_64BITS, &param,
                                          unix_io_manager, &m_fs);
        if (err) ext2_failure("ext2fs_initialize", err);
        std::string offset = "offset=" + std::to_string(kPartitionOffset);
        if ((err = io_channel_set_options(m_fs->io, offset.c_str()))) ext2_failure("partition offset", err);
        m_fs->now = time_t(timestamp);
        m_fs->super->s_mkfs_time = m_fs->super->s_lastcheck = uint32_t(timestamp);
        m_fs->super->s_max_mnt_count = -1;
        std::memset(m_fs->super->s_volume_name, 0, sizeof(m_fs->super->s_volume_name));
        std::memcpy(m_fs->super->s_volume_name, "phoenix", 7);
        if ((err = ext2fs_allocate_tables(m_fs))) ext2_failure("allocating the inode tables", err);
        // The reserved inodes (bad blocks, journal, ...) are in use from the start, as mke2fs
        // marks them; the root directory marks itself.
        for (ext2_ino_t ino = 1; ino < EXT2_FIRST_INODE(m_fs->super); ++ino)
            if (ino != EXT2_ROOT_INO) ext2fs_inode_alloc_stats2(m_fs, ino, +1, 0);
        if ((err = ext2fs_mkdir(m_fs, EXT2_ROOT_INO, EXT2_ROOT_INO, nullptr))) ext2_failure("the root directory", err);
        m_inodes["/"] = EXT2_ROOT_INO;
        fix_inode(EXT2_ROOT_INO, LINUX_S_IFDIR | 0755);
        // e2fsck wants lost+found, with room to reconnect into.
        ext2_ino_t lost = make_directory("/lost+found", 0700);
        for (int i = 0; i < 3; ++i)
            if ((err = ext2fs_expand_dir(m_fs, lost))) ext2_failure("lost+found", err);
    }
    ~Ext2Writer() {
        if (m_fs) ext2fs_free(m_fs);
    }

    ext2_ino_t make_directory(const std::string& path, uint16_t mode) {
        ext2_ino_t parent = inode_of(parent_of(path));
        std::string name = name_of(path);
        errcode_t err;
        while ((err = ext2fs_mkdir(m_fs, parent, 0, name.c_str())) == EXT2_ET_DIR_NO_SPACE)
            expand(parent, path);
        if (err) fail(path, err);
        ext2_ino_t ino = lookup(parent, name, path);
        fix_inode(ino, LINUX_S_IFDIR | mode);
        m_inodes[path] = ino;
        return ino;
    }

    void make_symlink(const std::string& path, const std::string& target) {
        ext2_ino_t parent = inode_of(parent_of(path));
        std::string name = name_of(path);
        errcode_t err;
        while ((err = ext2fs_symlink(m_fs, parent, 0, name.c_str(), target.c_str())) == EXT2_ET_DIR_NO_SPACE)
            expand(parent, path);
        if (err) fail(path, err);
        ext2_ino_t ino = lookup(parent, name, path);
        fix_inode(ino, 0);
        m_inodes[path] = ino;
    }

    void make_file(const std::string& path, uint16_t mode, std::span<const std::byte> bytes) {
        ext2_ino_t parent = inode_of(parent_of(path));
        ext2_ino_t ino;
        errcode_t err = ext2fs_new_inode(m_fs, parent, LINUX_S_IFREG | mode, nullptr, &ino);
        if (err) fail(path, err);
        std::string name = name_of(path);
        while ((err = ext2fs_link(m_fs, parent, name.c_str(), ino, EXT2_FT_REG_FILE)) == EXT2_ET_DIR_NO_SPACE)
            expand(parent, path);
        if (err) fail(path, err);
        ext2fs_inode_alloc_stats2(m_fs, ino, +1, 0);
        ext2_inode inode{};
        inode.i_mode = uint16_t(LINUX_S_IFREG | mode);
        inode.i_links_count = 1;
        inode.i_atime = inode.i_ctime = inode.i_mtime = uint32_t(m_timestamp);
        if ((err = ext2fs_write_new_inode(m_fs, ino, &inode))) fail(path, err);
        ext2_file_t file;
        if ((err = ext2fs_file_open(m_fs, ino, EXT2_FILE_WRITE, &file))) fail(path, err);
        size_t done = 0;
        while (done < bytes.size()) {
            unsigned int written = 0;
            size_t chunk = std::min<size_t>(bytes.size() - done, 1u << 20);
            err = ext2fs_file_write(file, bytes.data() + done, unsigned(chunk), &written);
            if (err || written == 0) {
                ext2fs_file_close(file);
                fail(path, err ? err : EXT2_ET_BLOCK_ALLOC_FAIL);
            }
            done += written;
        }
        if ((err = ext2fs_file_close(file))) fail(path, err);
        m_inodes[path] = ino;
    }

    void finish(uint64_t content_hash) {
        // The UUID and hash seed from the contents: same inputs, same bytes.
        uint64_t halves[2] = {content_hash, content_hash * 0x9e3779b97f4a7c15ull ^ m_timestamp};
        std::memcpy(m_fs->super->s_uuid, halves, 16);
        uint64_t seed[2] = {halves[1], halves[0]};
        std::memcpy(m_fs->super->s_hash_seed, seed, 16);
        m_fs->super->s_wtime = m_fs->super->s_mtime = uint32_t(m_timestamp);
        ext2fs_mark_super_dirty(m_fs);
        errcode_t err = ext2fs_close_free(&m_fs);
        if (err) ext2_failure("writing the filesystem", err);
    }

private:
    [[noreturn]] void fail(const std::string& path, errcode_t code) {
        if (code == EXT2_ET_BLOCK_ALLOC_FAIL || code == EXT2_ET_INODE_ALLOC_FAIL || code == EXT2_ET_DIR_NO_SPACE_FOR_CSUM)
            throw PhxError(kExitUsage, "the image is too small for " + path + " (raise BaseVolumeSz)");
        ext2_failure(path, code);
    }
    void expand(ext2_ino_t dir, const std::string& path) {
        if (errcode_t err = ext2fs_expand_dir(m_fs, dir)) fail(path, err);
    }
    ext2_ino_t inode_of(const std::string& path) {
        auto it = m_inodes.find(path);
        if (it == m_inodes.end()) throw PhxError(kExitVmFailed, "building the image: no directory " + path);
        return it->second;
    }
    ext2_ino_t lookup(ext2_ino_t parent, const std::string& name, const std::string& path) {
        ext2_ino_t ino;
        if (errcode_t err = ext2fs_lookup(m_fs, parent, name.c_str(), int(name.size()), nullptr, &ino)) fail(path, err);
        return ino;
    }
    // Owner root whoever builds the image; `mode` (type and permissions) unless 0.
    void fix_inode(ext2_ino_t ino, uint16_t mode) {
        ext2_inode inode;
        if (errcode_t err = ext2fs_read_inode(m_fs, ino, &inode)) ext2_failure("reading an inode", err);
        if (mode) inode.i_mode = mode;
        inode.i_uid = inode.i_gid = 0;
        inode.osd2.linux2.l_i_uid_high = inode.osd2.linux2.l_i_gid_high = 0;
        if (errcode_t err = ext2fs_write_inode(m_fs, ino, &inode)) ext2_failure("writing an inode", err);
    }

    ext2_filsys m_fs = nullptr;
    uint64_t m_timestamp;
    std::map<std::string, ext2_ino_t> m_inodes;
};

void write_mbr(const std::string& path, uint64_t disk_bytes, uint64_t content_hash) {
    uint8_t mbr[512] = {};
    uint32_t signature = uint32_t(content_hash ^ (content_hash >> 32));
    std::memcpy(mbr + 440, &signature, 4);
    uint8_t* entry = mbr + 446;
    entry[0] = 0x80;  // bootable: GRUB's disks (clouds) boot from it
    entry[1] = 0xfe, entry[2] = 0xff, entry[3] = 0xff;  // CHS unused: LBA only
    entry[4] = 0x83;                                     // Linux
    entry[5] = 0xfe, entry[6] = 0xff, entry[7] = 0xff;
    uint32_t first = uint32_t(kPartitionOffset / 512), count = uint32_t((disk_bytes - kPartitionOffset) / 512);
    std::memcpy(entry + 8, &first, 4);
    std::memcpy(entry + 12, &count, 4);
    mbr[510] = 0x55, mbr[511] = 0xaa;
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || pwrite(fd, mbr, sizeof(mbr), 0) != ssize_t(sizeof(mbr)) || fsync(fd) != 0) {
        int error = errno;
        if (fd >= 0) close(fd);
        throw PhxError(kExitVmFailed, "writing the partition table: " + std::string(std::strerror(error)));
    }
    close(fd);
}

}  // namespace

void ImageTree::add(const std::string& raw_path, Entry entry) {
    std::string path = normalize(raw_path);
    if (path == "/") {
        if (entry.kind != Entry::Kind::Directory) throw PhxError(kExitUsage, "the image root must be a directory");
        return;
    }
    add_parents(path);
    auto [it, inserted] = m_entries.emplace(path, entry);
    if (!inserted && !same(it->second, entry))
        throw PhxError(kExitUsage, "image path " + path + " is given twice: as " + kind_name(it->second.kind) +
                                       (it->second.host_path.empty() ? "" : " from " + it->second.host_path) +
                                       " and as " + kind_name(entry.kind) +
                                       (entry.host_path.empty() ? "" : " from " + entry.host_path));
}

void ImageTree::add_parents(const std::string& path) {
    std::string parent = parent_of(path);
    if (parent == "/") return;
    auto it = m_entries.find(parent);
    if (it != m_entries.end()) {
        if (it->second.kind != Entry::Kind::Directory)
            throw PhxError(kExitUsage, "image path " + path + " needs " + parent + " to be a directory, but it is " +
                                           kind_name(it->second.kind));
        return;
    }
    add_parents(parent);
    m_entries.emplace(parent, Entry{Entry::Kind::Directory, 0755, {}, {}, false, {}});
}

void ImageTree::add_directory(const std::string& path, uint16_t mode) {
    add(path, Entry{Entry::Kind::Directory, mode, {}, {}, false, {}});
}

void ImageTree::add_file(const std::string& path, const std::string& host_path) {
    struct stat st;
    if (stat(host_path.c_str(), &st) != 0)
        throw PhxError(kExitUsage, host_path + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) throw PhxError(kExitUsage, host_path + ": not a regular file");
    add(path, Entry{Entry::Kind::File, uint16_t(st.st_mode & 07777), host_path, {}, false, {}});
}

void ImageTree::add_bytes(const std::string& path, std::vector<std::byte> bytes, uint16_t mode) {
    add(path, Entry{Entry::Kind::File, mode, {}, std::move(bytes), true, {}});
}

void ImageTree::add_symlink(const std::string& path, const std::string& target) {
    if (target.empty()) throw PhxError(kExitUsage, "symbolic link " + path + " has an empty target");
    add(path, Entry{Entry::Kind::Symlink, 0777, {}, {}, false, target});
}

std::string ImageTree::add_host_path(const std::string& host_path) {
    std::string path = normalize(fs::absolute(host_path).string());
    for (int hops = 0; hops < 40; ++hops) {
        std::string current;
        bool restarted = false;
        size_t at = 1;
        while (at <= path.size()) {
            size_t end = path.find('/', at);
            if (end == std::string::npos) end = path.size();
            current += "/" + path.substr(at, end - at);
            struct stat st;
            if (lstat(current.c_str(), &st) != 0) throw PhxError(kExitUsage, current + ": " + std::strerror(errno));
            if (S_ISLNK(st.st_mode)) {
                std::error_code ec;
                std::string target = fs::read_symlink(current, ec).string();
                if (ec) throw PhxError(kExitUsage, current + ": " + ec.message());
                add_symlink(current, target);
                std::string rest = end < path.size() ? path.substr(end) : "";
                path = normalize((target[0] == '/' ? target : parent_of(current) + "/" + target) + rest);
                restarted = true;
                break;
            }
            if (end == path.size()) {
                if (S_ISDIR(st.st_mode)) {
                    add_directory(current, uint16_t(st.st_mode & 07777));
                } else {
                    add_file(current, current);
                }
                return current;
            }
            if (!S_ISDIR(st.st_mode)) throw PhxError(kExitUsage, current + ": not a directory");
            add_directory(current, uint16_t(st.st_mode & 07777));
            at = end + 1;
        }
        if (!restarted) return path;
    }
    throw PhxError(kExitUsage, host_path + ": too many levels of symbolic links");
}

void ImageTree::add_host_tree(const std::string& host_dir, const std::string& path) {
    std::error_code ec;
    if (!fs::is_directory(host_dir, ec)) throw PhxError(kExitUsage, host_dir + ": not a directory");
    struct stat st;
    if (stat(host_dir.c_str(), &st) == 0) add_directory(path, uint16_t(st.st_mode & 07777));
    fs::recursive_directory_iterator it(host_dir, fs::directory_options::none, ec), end;
    if (ec) throw PhxError(kExitUsage, host_dir + ": " + ec.message());
    for (; it != end; it.increment(ec)) {
        if (ec) throw PhxError(kExitUsage, host_dir + ": " + ec.message());
        std::string host = it->path().string();
        std::string inside = path + "/" + fs::relative(it->path(), host_dir).string();
        if (lstat(host.c_str(), &st) != 0) throw PhxError(kExitUsage, host + ": " + std::strerror(errno));
        if (S_ISLNK(st.st_mode)) {
            add_symlink(inside, fs::read_symlink(it->path()).string());
        } else if (S_ISDIR(st.st_mode)) {
            add_directory(inside, uint16_t(st.st_mode & 07777));
        } else if (S_ISREG(st.st_mode)) {
            add_file(inside, host);
        } else {
            throw PhxError(kExitUsage, host + ": only files, directories and symbolic links go into an image");
        }
    }
}

uint64_t ImageTree::content_bytes() const {
    uint64_t total = 0;
    for (const auto& [path, entry] : m_entries) {
        if (entry.kind != Entry::Kind::File) continue;
        if (entry.from_bytes) {
            total += entry.bytes.size();
        } else {
            std::error_code ec;
            total += fs::file_size(entry.host_path, ec);
        }
    }
    return total;
}

void write_disk_image(const ImageTree& tree, const std::string& out_path, const ImageOptions& options) {
    // Room: every file rounded up to blocks plus its indirect blocks, a block per directory
    // and long symlink, then a quarter more and 8 MiB for metadata and the program's use.
    uint64_t data = 0;
    for (const auto& [path, entry] : tree.entries()) {
        uint64_t bytes = entry.kind == ImageTree::Entry::Kind::File
                             ? (entry.from_bytes ? entry.bytes.size() : fs::file_size(entry.host_path))
                             : kImageBlockSize;
        uint64_t blocks = (bytes + kImageBlockSize - 1) / kImageBlockSize;
        data += (blocks + blocks / 1000 + 1) * kImageBlockSize;
    }
    uint32_t inodes = uint32_t(((tree.entries().size() + 64) + 1023) / 1024 * 1024);
    uint64_t disk = options.size_bytes;
    if (disk == 0) {
        disk = kPartitionOffset + data + data / 4 + uint64_t(inodes) * kInodeSize + (8ull << 20);
        disk = std::max<uint64_t>(disk, 16ull << 20);
    }
    disk = (disk + (1ull << 20) - 1) & ~((1ull << 20) - 1);
    if (disk < kPartitionOffset + (2ull << 20))
        throw PhxError(kExitUsage, "an image of " + std::to_string(disk) + " bytes is too small (at least 3 MiB)");

    TempImage temp(out_path);
    if (truncate(temp.path().c_str(), off_t(disk)) != 0)
        throw PhxError(kExitVmFailed, "cannot size " + temp.path() + ": " + std::strerror(errno));
    Fnv hash;
    {
        Ext2Writer writer(temp.path(), disk - kPartitionOffset, inodes, options.timestamp);
        for (const auto& [path, entry] : tree.entries()) {
            hash.add(path);
            hash.add(&entry.mode, sizeof(entry.mode));
            switch (entry.kind) {
                case ImageTree::Entry::Kind::Directory:
                    writer.make_directory(path, entry.mode);
                    break;
                case ImageTree::Entry::Kind::Symlink:
                    hash.add(entry.target);
                    writer.make_symlink(path, entry.target);
                    break;
                case ImageTree::Entry::Kind::File: {
                    std::vector<std::byte> bytes;
                    if (!entry.from_bytes) {
                        try {
                            bytes = read_file(entry.host_path);
                        } catch (const std::system_error& e) {
                            throw PhxError(kExitUsage, entry.host_path + ": " + e.code().message());
                        }
                    }
                    const auto& content = entry.from_bytes ? entry.bytes : bytes;
                    hash.add(content.data(), content.size());
                    writer.make_file(path, entry.mode, content);
                    break;
                }
            }
        }
        writer.finish(hash.value());
    }
    write_mbr(temp.path(), disk, hash.value());
    temp.keep_as(out_path);
}

std::vector<std::byte> read_image_file(const std::string& image_path, const std::string& path) {
    std::vector<std::byte> head;
    {
        int fd = open(image_path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) throw PhxError(kExitUsage, image_path + ": " + std::strerror(errno));
        head.resize(512);
        ssize_t n = pread(fd, head.data(), head.size(), 0);
        close(fd);
        if (n != 512 || head[510] != std::byte{0x55} || head[511] != std::byte{0xaa} || head[446 + 4] != std::byte{0x83})
            throw PhxError(kExitUsage, image_path + ": not a Phoenix disk image (no Linux partition at 1 MiB)");
    }
    ext2_filsys fs = nullptr;
    std::string options = "offset=" + std::to_string(kPartitionOffset);
    errcode_t err = ext2fs_open2(image_path.c_str(), options.c_str(), 0, 0, 0, unix_io_manager, &fs);
    if (err) throw PhxError(kExitUsage, image_path + ": not a Phoenix disk image (" + error_message(err) + ")");
    struct Closer {
        ext2_filsys fs;
        ~Closer() { ext2fs_close_free(&fs); }
    } closer{fs};
    ext2_ino_t ino;
    if ((err = ext2fs_namei_follow(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path.c_str(), &ino)))
        throw PhxError(kExitUsage, image_path + ": has no " + path);
    ext2_file_t file;
    if ((err = ext2fs_file_open(fs, ino, 0, &file))) throw PhxError(kExitUsage, image_path + ": cannot open " + path);
    std::vector<std::byte> bytes(ext2fs_file_get_size(file));
    size_t done = 0;
    while (done < bytes.size()) {
        unsigned int got = 0;
        err = ext2fs_file_read(file, bytes.data() + done, unsigned(std::min<size_t>(bytes.size() - done, 1u << 20)), &got);
        if (err || got == 0) {
            ext2fs_file_close(file);
            throw PhxError(kExitUsage, image_path + ": cannot read " + path);
        }
        done += got;
    }
    ext2fs_file_close(file);
    return bytes;
}

}  // namespace phx
