// lib/fs/ext2: real images made by mke2fs -d from a tree this test writes (1, 2, 4 and 64 KiB
// blocks, 128- and 256-byte inodes, revision 0, with and without FILETYPE) read back through
// the Volume and compared with what was written; then corruptions of a valid image, each of
// which must end in a clean error, and a seeded storm of random ones that must not crash.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "lib/base/checked.h"
#include "lib/fs/ext2/volume.h"

using namespace lib::fs::ext2;
using lib::Errno;

namespace {

namespace fs = std::filesystem;

// ---- Host side: a device over bytes, tools, the tree ---------------------------------------

class MemoryDevice final : public BlockDevice {
public:
    explicit MemoryDevice(std::vector<std::byte> bytes) : m_bytes(std::move(bytes)) {}
    lib::ErrorOr read(uint64_t offset, std::span<std::byte> out) override {
        if (!lib::range_within(offset, out.size(), m_bytes.size())) return Errno::Io;
        if (!out.empty()) std::memcpy(out.data(), m_bytes.data() + offset, out.size());
        return {};
    }
    uint64_t size() const override { return m_bytes.size(); }
    std::vector<std::byte>& bytes() { return m_bytes; }

private:
    std::vector<std::byte> m_bytes;
};

// The same over bytes someone else owns and may change between mounts.
class ViewDevice final : public BlockDevice {
public:
    explicit ViewDevice(std::span<const std::byte> bytes) : m_bytes(bytes) {}
    lib::ErrorOr read(uint64_t offset, std::span<std::byte> out) override {
        if (!lib::range_within(offset, out.size(), m_bytes.size())) return Errno::Io;
        if (!out.empty()) std::memcpy(out.data(), m_bytes.data() + offset, out.size());
        return {};
    }
    uint64_t size() const override { return m_bytes.size(); }

private:
    std::span<const std::byte> m_bytes;
};

std::string find_tool(const char* name) {
    for (const char* dir : {"/sbin/", "/usr/sbin/", "/usr/bin/", "/bin/"}) {
        std::string path = std::string(dir) + name;
        if (access(path.c_str(), X_OK) == 0) return path;
    }
    return {};
}

bool run(const std::string& command) {
    return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

std::vector<std::byte> read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> chars{std::istreambuf_iterator<char>(in), {}};
    std::vector<std::byte> bytes(chars.size());
    if (!chars.empty()) std::memcpy(bytes.data(), chars.data(), chars.size());
    return bytes;
}

// File contents: never a zero byte, because mke2fs -d turns all-zero blocks into holes.
std::byte pattern(uint32_t seed, uint64_t offset) {
    return std::byte((offset * 131 + seed * 7 + (offset >> 10)) % 251 + 1);
}

std::vector<std::byte> pattern_bytes(uint32_t seed, size_t size) {
    std::vector<std::byte> out(size);
    for (size_t i = 0; i < size; ++i) out[i] = pattern(seed, i);
    return out;
}

void write_at(const fs::path& path, uint64_t offset, const std::vector<std::byte>& data) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(fd, 0) << path;
    ASSERT_EQ(pwrite(fd, data.data(), data.size(), off_t(offset)), ssize_t(data.size()));
    close(fd);
}

// A file with holes: ftruncate to `size`, then data ranges written at their offsets.
struct Sparse {
    uint64_t size;
    std::vector<std::pair<uint64_t, size_t>> ranges;  // offset, length; seed = index + 20
    std::byte at(uint64_t offset) const {
        for (size_t i = 0; i < ranges.size(); ++i)
            if (offset >= ranges[i].first && offset - ranges[i].first < ranges[i].second)
                return pattern(uint32_t(i + 20), offset - ranges[i].first);
        return std::byte{0};
    }
};

struct Config {
    const char* name;
    uint32_t block_size;
    const char* options;
    bool large_files;  // revision 0 has no i_size_high
    bool filetype;
};

void PrintTo(const Config& config, std::ostream* out) { *out << config.name; }

constexpr uint32_t kSmallMtime = 1234567890;
constexpr size_t kManyEntries = 200;
const std::string kSlowTarget = "a/b/c/" + std::string(90, 'x');

std::string many_name(size_t i) {
    char name[64];
    std::snprintf(name, sizeof(name), "entry-%03zu-with-a-longer-name", i);
    return name;
}

// Where the first block of each level of indirection starts, in file blocks.
uint64_t single_start() { return 12; }
uint64_t double_start(uint32_t bs) { return 12 + bs / 4; }
uint64_t triple_start(uint32_t bs) { return 12 + bs / 4 + uint64_t(bs / 4) * (bs / 4); }

// What the test wrote, to compare the image against.
struct Tree {
    std::map<std::string, std::vector<std::byte>> files;  // dense regular files by path
    std::map<std::string, Sparse> sparse;
    bool has_devices = false;
    bool owned = false;  // chown worked (root)
};

Tree populate(const fs::path& root, const Config& config) {
    Tree tree;
    uint32_t bs = config.block_size;
    auto add = [&](const std::string& path, std::vector<std::byte> data) {
        write_at(root / path, 0, data);
        tree.files[path] = std::move(data);
    };
    add("empty", {});
    add("small", pattern_bytes(1, 100));
    add("single", pattern_bytes(2, (single_start() + 3) * bs + 17));
    if (bs <= 4096) add("double", pattern_bytes(3, (double_start(bs) + 5) * bs + 33));
    fs::create_directories(root / "a/b/c");
    add("a/b/c/deep.txt", pattern_bytes(5, 2000));
    fs::create_directories(root / "many");
    for (size_t i = 0; i < kManyEntries; ++i) add("many/" + many_name(i), {});

    // Data in the triple-indirect range where the host can hold such a file, else double.
    uint64_t far_block = bs <= 4096 ? triple_start(bs) + 7 : double_start(bs) + 7;
    tree.sparse["sparse"] =
        Sparse{far_block * bs + 321 + 3000, {{1048576 + 100, 3000}, {far_block * bs + 321, 3000}}};
    if (config.large_files)
        tree.sparse["huge"] =
            Sparse{(uint64_t(5) << 30) + 4077, {{(uint64_t(5) << 30) + 77, 4000}}};
    for (auto& [name, file] : tree.sparse) {
        int fd = open((root / name).c_str(), O_WRONLY | O_CREAT, 0644);
        EXPECT_EQ(ftruncate(fd, off_t(file.size)), 0);
        close(fd);
        for (size_t i = 0; i < file.ranges.size(); ++i)
            write_at(root / name, file.ranges[i].first,
                     pattern_bytes(uint32_t(i + 20), file.ranges[i].second));
    }

    fs::create_symlink("small", root / "link-fast");
    fs::create_symlink(kSlowTarget, root / "link-slow");
    fs::create_hard_link(root / "small", root / "hard");
    EXPECT_EQ(mkfifo((root / "fifo").c_str(), 0600), 0);
    EXPECT_EQ(chmod((root / "small").c_str(), 0640), 0);
    tree.owned = geteuid() == 0 && chown((root / "small").c_str(), 1000, 70000) == 0;
    timespec times[2] = {{kSmallMtime - 5, 0}, {kSmallMtime, 0}};
    EXPECT_EQ(utimensat(AT_FDCWD, (root / "small").c_str(), times, 0), 0);
    return tree;
}

// An image of `tree` as mke2fs -d makes it, plus two device nodes by debugfs when present.
struct Built {
    Tree tree;
    std::vector<std::byte> image;
};

std::unique_ptr<Built> build(const Config& config) {
    auto built = std::make_unique<Built>();
    std::string mke2fs = find_tool("mke2fs");
    if (mke2fs.empty()) return nullptr;
    std::string pattern_path = (fs::temp_directory_path() / "phx-ext2-XXXXXX").string();
    if (!mkdtemp(pattern_path.data())) return nullptr;
    fs::path dir = pattern_path;
    fs::create_directories(dir / "tree");
    built->tree = populate(dir / "tree", config);
    fs::path image = dir / "image";
    size_t size = size_t(config.block_size == 4096 ? 12 : 8) << 20;
    bool made = run(mke2fs + " -q -t ext2 " + config.options +
                    " -N 512 -m 0 -E root_owner=0:0 -d " + (dir / "tree").string() + " -F " +
                    image.string() + " " + std::to_string(size / 1024) + "k");
    std::string debugfs = find_tool("debugfs");
    if (made && !debugfs.empty())
        built->tree.has_devices = run(debugfs + " -w -R 'mknod chr c 1 3' " + image.string()) &&
                                  run(debugfs + " -w -R 'mknod blk b 259 300' " + image.string());
    if (made) built->image = read_file(image);
    // mke2fs may leave the unused tail of a new image file unwritten; the disk has it.
    if (made && built->image.size() < size) built->image.resize(size);
    fs::remove_all(dir);
    if (!made) return nullptr;
    return built;
}

// ---- Reading helpers -----------------------------------------------------------------------

lib::Result<uint32_t> walk(const Volume& volume, const std::string& path) {
    uint32_t ino = Volume::kRootIno;
    size_t start = 0;
    while (start < path.size()) {
        size_t slash = path.find('/', start);
        if (slash == std::string::npos) slash = path.size();
        ino = TRY(volume.lookup(ino, std::string_view(path).substr(start, slash - start)));
        start = slash + 1;
    }
    return ino;
}

// Reads [offset, offset + length) in pieces of `chunk` bytes.
std::vector<std::byte> read_range(const Volume& volume, uint32_t ino, uint64_t offset,
                                  size_t length, size_t chunk) {
    std::vector<std::byte> out(length);
    size_t done = 0;
    while (done < length) {
        size_t want = std::min(chunk, length - done);
        auto got = volume.read(ino, offset + done, std::span(out).subspan(done, want));
        EXPECT_FALSE(got.is_error()) << lib::errno_name(got.error());
        if (got.is_error() || got.value() == 0) break;
        done += got.value();
    }
    out.resize(done);
    return out;
}

std::map<std::string, DirEntry> list(const Volume& volume, uint32_t dir) {
    std::map<std::string, DirEntry> entries;
    uint64_t cookie = 0;
    DirEntry entry;
    for (size_t guard = 0; guard < 10000; ++guard) {
        auto more = volume.next_entry(dir, cookie, entry);
        EXPECT_FALSE(more.is_error()) << lib::errno_name(more.error());
        if (more.is_error() || !more.value()) break;
        std::string name(entry.name, entry.name_length);
        EXPECT_EQ(std::strlen(entry.name), entry.name_length);
        EXPECT_TRUE(entries.emplace(name, entry).second) << "listed twice: " << name;
    }
    return entries;
}

// ---- Images that mke2fs made ---------------------------------------------------------------

// Each configuration's image is built once per run (null when mke2fs failed).
const Built* built_for(const Config& config) {
    static std::map<std::string, std::unique_ptr<Built>> images;
    auto it = images.find(config.name);
    if (it == images.end()) it = images.emplace(config.name, build(config)).first;
    return it->second.get();
}

bool have_mke2fs() { return !find_tool("mke2fs").empty(); }

class Ext2Image : public testing::TestWithParam<Config> {
protected:
    void SetUp() override {
        if (!have_mke2fs()) GTEST_SKIP() << "mke2fs not found (scripts/deps installs e2fsprogs)";
        m_built = built_for(GetParam());
        ASSERT_TRUE(m_built) << "mke2fs failed for " << GetParam().options;
        m_device = std::make_unique<MemoryDevice>(m_built->image);
        auto volume = Volume::mount(*m_device);
        ASSERT_FALSE(volume.is_error()) << lib::errno_name(volume.error());
        m_volume.emplace(volume.release_value());
    }
    const Volume& volume() const { return *m_volume; }
    const Tree& tree() const { return m_built->tree; }
    std::byte device_byte(uint64_t offset) const { return m_built->image.at(offset); }
    uint32_t ino(const std::string& path) const {
        auto found = walk(*m_volume, path);
        EXPECT_FALSE(found.is_error()) << path << ": " << lib::errno_name(found.error());
        return found.value_or(0);
    }

private:
    const Built* m_built = nullptr;
    std::unique_ptr<MemoryDevice> m_device;
    std::optional<Volume> m_volume;
};

TEST_P(Ext2Image, MountsWithTheBlockSizeItWasMadeWith) {
    EXPECT_EQ(volume().block_size(), GetParam().block_size);
    auto root = volume().stat(Volume::kRootIno);
    ASSERT_FALSE(root.is_error());
    EXPECT_EQ(root.value().mode & 0170000, 0040000);
    EXPECT_EQ(root.value().uid, 0u);
    EXPECT_GE(root.value().links, 5);  // ., .., lost+found, a, many
}

TEST_P(Ext2Image, DenseFilesReadBackInAnyChunking) {
    for (const auto& [path, content] : tree().files) {
        uint32_t file = ino(path);
        auto info = volume().stat(file);
        ASSERT_FALSE(info.is_error()) << path;
        EXPECT_EQ(info.value().size, content.size()) << path;
        EXPECT_EQ(info.value().mode & 0170000, 0100000) << path;
        if (path.starts_with("many/")) continue;  // tiny; the listing test covers them
        EXPECT_EQ(read_range(volume(), file, 0, content.size() + 10, 1 << 20), content) << path;
        EXPECT_EQ(read_range(volume(), file, 0, content.size(), 1000), content) << path;
        std::byte tail[8];
        auto at_eof = volume().read(file, content.size(), tail);
        ASSERT_FALSE(at_eof.is_error());
        EXPECT_EQ(at_eof.value(), 0u);
        EXPECT_EQ(volume().read(file, ~uint64_t(0), tail).value_or(99), 0u);
    }
}

TEST_P(Ext2Image, SparseFilesReadZerosInHoles) {
    for (const auto& [path, sparse] : tree().sparse) {
        uint32_t file = ino(path);
        auto info = volume().stat(file);
        ASSERT_FALSE(info.is_error());
        EXPECT_EQ(info.value().size, sparse.size) << path;
        // A sparse file uses far fewer blocks than its size.
        EXPECT_LT(info.value().blocks_512 * 512, uint64_t(64) << 20) << path;
        std::vector<uint64_t> probes = {0, 4096};
        for (auto [offset, length] : sparse.ranges) {
            probes.push_back(offset - 50);
            probes.push_back(offset + length - 500);
        }
        for (uint64_t probe : probes) {
            auto got = read_range(volume(), file, probe, 1000, 333);
            ASSERT_EQ(got.size(), std::min<uint64_t>(1000, sparse.size - probe))
                << path << "@" << probe;
            for (size_t i = 0; i < got.size(); ++i)
                ASSERT_EQ(got[i], sparse.at(probe + i)) << path << "@" << probe + i;
        }
        // A block in the first hole maps to nothing; a block with data maps to its bytes.
        auto hole = volume().block_offset(file, 1);
        ASSERT_FALSE(hole.is_error());
        EXPECT_EQ(hole.value(), 0u);
        uint64_t data = sparse.ranges.back().first + 1;
        auto mapped = volume().block_offset(file, data / volume().block_size());
        ASSERT_FALSE(mapped.is_error()) << lib::errno_name(mapped.error());
        ASSERT_NE(mapped.value(), 0u);
        EXPECT_EQ(device_byte(mapped.value() + data % volume().block_size()), sparse.at(data));
    }
}

TEST_P(Ext2Image, BlockOffsetsAgreeWithRead) {
    for (const char* path : {"single", "double", "a/b/c/deep.txt"}) {
        if (!tree().files.count(path)) continue;
        const auto& content = tree().files.at(path);
        uint32_t file = ino(path);
        uint32_t bs = volume().block_size();
        uint64_t blocks = (content.size() + bs - 1) / bs;
        std::set<uint64_t> seen;
        for (uint64_t index = 0; index < blocks; ++index) {
            auto offset = volume().block_offset(file, index);
            ASSERT_FALSE(offset.is_error()) << path << " block " << index;
            ASSERT_NE(offset.value(), 0u);
            EXPECT_EQ(offset.value() % bs, 0u);
            EXPECT_TRUE(seen.insert(offset.value()).second) << "two blocks at one place";
            size_t length = std::min<uint64_t>(bs, content.size() - index * bs);
            for (size_t i = 0; i < length; i += 97)
                ASSERT_EQ(device_byte(offset.value() + i), content[index * bs + i]);
        }
        auto past = volume().block_offset(file, blocks);
        ASSERT_TRUE(past.is_error());
        EXPECT_EQ(past.error(), Errno::Inval);
    }
}

// The batched form gives exactly what block_offset gives, block by block, and stops at EOF.
TEST_P(Ext2Image, BatchedBlockOffsetsMatchSingleOnes) {
    for (const char* path : {"single", "double", "a/b/c/deep.txt"}) {
        if (!tree().files.count(path)) continue;
        uint32_t file = ino(path);
        uint32_t bs = volume().block_size();
        uint64_t blocks = (tree().files.at(path).size() + bs - 1) / bs;
        std::vector<uint64_t> batch(blocks + 5, ~uint64_t(0));
        for (uint64_t first : {uint64_t(0), blocks / 2}) {
            auto filled = volume().block_offsets(file, first, batch);
            ASSERT_FALSE(filled.is_error()) << path;
            ASSERT_EQ(filled.value(), blocks - first) << path;
            for (uint64_t i = 0; i < filled.value(); ++i)
                EXPECT_EQ(batch[i], volume().block_offset(file, first + i).value()) << path << " " << i;
        }
        auto past = volume().block_offsets(file, blocks, batch);
        ASSERT_FALSE(past.is_error());
        EXPECT_EQ(past.value(), 0u);
    }
}

TEST_P(Ext2Image, StatReportsModeOwnerTimesAndLinks) {
    auto small = volume().stat(ino("small"));
    ASSERT_FALSE(small.is_error());
    EXPECT_EQ(small.value().mode, 0100640);
    EXPECT_EQ(small.value().links, 2);  // "hard" is the same inode
    EXPECT_EQ(ino("hard"), ino("small"));
    EXPECT_EQ(small.value().mtime, kSmallMtime);
    EXPECT_EQ(small.value().atime, kSmallMtime - 5);
    EXPECT_EQ(small.value().blocks_512, volume().block_size() / 512);
    if (tree().owned) {
        EXPECT_EQ(small.value().uid, 1000u);
        EXPECT_EQ(small.value().gid, 70000u);  // needs the high 16 bits
    }
    auto empty = volume().stat(ino("empty"));
    ASSERT_FALSE(empty.is_error());
    EXPECT_EQ(empty.value().size, 0u);
    EXPECT_EQ(empty.value().blocks_512, 0u);
    auto dir = volume().stat(ino("a/b"));
    ASSERT_FALSE(dir.is_error());
    EXPECT_EQ(dir.value().mode & 0170000, 0040000);
    EXPECT_EQ(dir.value().links, 3);
    auto fifo = volume().stat(ino("fifo"));
    ASSERT_FALSE(fifo.is_error());
    EXPECT_EQ(fifo.value().mode, 0010600);
    if (tree().has_devices) {
        auto chr = volume().stat(ino("chr"));
        ASSERT_FALSE(chr.is_error());
        EXPECT_EQ(chr.value().mode & 0170000, 0020000);
        EXPECT_EQ(chr.value().rdev, (1u << 8) | 3u);
        auto blk = volume().stat(ino("blk"));
        ASSERT_FALSE(blk.is_error());
        EXPECT_EQ(blk.value().mode & 0170000, 0060000);
        // new_encode_dev(259, 300): minor's low byte, major << 8, minor's high bits << 12.
        EXPECT_EQ(blk.value().rdev, (300u & 0xff) | (259u << 8) | ((300u & ~0xffu) << 12));
    }
    EXPECT_EQ(volume().stat(0).error(), Errno::Inval);
    EXPECT_EQ(volume().stat(volume().inodes_count() + 1).error(), Errno::Inval);
}

TEST_P(Ext2Image, FastAndSlowSymlinks) {
    char target[512];
    auto fast = volume().read_link(ino("link-fast"), target);
    ASSERT_FALSE(fast.is_error());
    EXPECT_EQ(std::string(target, fast.value()), "small");
    auto slow = volume().read_link(ino("link-slow"), target);
    ASSERT_FALSE(slow.is_error()) << lib::errno_name(slow.error());
    EXPECT_EQ(std::string(target, slow.value()), kSlowTarget);
    auto info = volume().stat(ino("link-slow"));
    ASSERT_FALSE(info.is_error());
    EXPECT_EQ(info.value().mode & 0170000, 0120000);
    EXPECT_EQ(info.value().size, kSlowTarget.size());
    // A short buffer gets a prefix; read() sees the same bytes at an offset.
    auto prefix = volume().read_link(ino("link-slow"), std::span(target, 4));
    EXPECT_EQ(prefix.value_or(0), 4u);
    std::byte piece[3];
    EXPECT_EQ(volume().read(ino("link-fast"), 2, piece).value_or(0), 3u);
    EXPECT_EQ(std::memcmp(piece, "all", 3), 0);
    EXPECT_EQ(volume().block_offset(ino("link-fast"), 0).error(), Errno::Inval);
    EXPECT_NE(volume().block_offset(ino("link-slow"), 0).value_or(0), 0u);
    EXPECT_EQ(volume().read_link(ino("small"), target).error(), Errno::Inval);
    EXPECT_EQ(volume().read_link(Volume::kRootIno, target).error(), Errno::Inval);
}

TEST_P(Ext2Image, ListsDirectoriesWithTypes) {
    auto root = list(volume(), Volume::kRootIno);
    std::map<std::string, uint8_t> expected = {
        {".", kDtDir},      {"..", kDtDir},     {"lost+found", kDtDir}, {"a", kDtDir},
        {"many", kDtDir},   {"empty", kDtReg},  {"small", kDtReg},      {"hard", kDtReg},
        {"single", kDtReg}, {"sparse", kDtReg}, {"link-fast", kDtLnk},  {"link-slow", kDtLnk},
        {"fifo", kDtFifo}};
    if (tree().files.count("double")) expected["double"] = kDtReg;
    if (tree().sparse.count("huge")) expected["huge"] = kDtReg;
    if (tree().has_devices) {
        expected["chr"] = kDtChr;
        expected["blk"] = kDtBlk;
    }
    ASSERT_EQ(root.size(), expected.size());
    for (const auto& [name, type] : expected) {
        ASSERT_TRUE(root.count(name)) << name;
        EXPECT_EQ(root[name].type, type) << name;
        EXPECT_EQ(root[name].ino, volume().lookup(Volume::kRootIno, name).value_or(0)) << name;
    }
    EXPECT_EQ(root["."].ino, Volume::kRootIno);
    EXPECT_EQ(root[".."].ino, Volume::kRootIno);

    // A directory spanning several blocks, and a listing resumed from a saved cookie.
    uint32_t many = ino("many");
    auto entries = list(volume(), many);
    EXPECT_EQ(entries.size(), kManyEntries + 2);
    for (size_t i = 0; i < kManyEntries; ++i) ASSERT_TRUE(entries.count(many_name(i))) << i;
    EXPECT_GT(volume().stat(many).value().size,
              volume().block_size() * (GetParam().block_size < 8192));
    uint64_t cookie = 0;
    DirEntry entry;
    for (int i = 0; i < 50; ++i)
        ASSERT_TRUE(volume().next_entry(many, cookie, entry).value_or(false));
    uint64_t saved = cookie;
    std::string after(entry.name, entry.name_length);
    size_t rest = 0;
    while (volume().next_entry(many, cookie, entry).value_or(false)) ++rest;
    EXPECT_EQ(rest, kManyEntries + 2 - 50);
    EXPECT_FALSE(volume().next_entry(many, cookie, entry).value_or(true));  // stays at the end
    ASSERT_TRUE(volume().next_entry(many, saved, entry).value_or(false));
    EXPECT_NE(std::string(entry.name, entry.name_length), after);
    uint64_t odd = 2;
    EXPECT_EQ(volume().next_entry(many, odd, entry).error(), Errno::Inval);
}

TEST_P(Ext2Image, ForEachEntryStopsWhereTheCallbackSays) {
    uint32_t many = ino("many");
    std::vector<std::string> names;
    uint64_t cookie = 0;
    // A "buffer" of 37 entries at a time, as getdents64 would fill one.
    for (int call = 0; call < 100; ++call) {
        size_t before = names.size();
        auto done = volume().for_each_entry(many, cookie, [&](const DirEntry& entry) {
            if (names.size() - before == 37) return false;
            names.emplace_back(entry.name, entry.name_length);
            return true;
        });
        ASSERT_FALSE(done.is_error());
        if (names.size() == before) break;
    }
    EXPECT_EQ(names.size(), kManyEntries + 2);
    EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
    // The same order and final cookie as next_entry.
    uint64_t step = 0;
    DirEntry entry;
    for (const std::string& name : names) {
        ASSERT_TRUE(volume().next_entry(many, step, entry).value_or(false));
        EXPECT_EQ(std::string(entry.name, entry.name_length), name);
    }
    EXPECT_FALSE(volume().next_entry(many, step, entry).value_or(true));
    EXPECT_EQ(step, cookie);
    EXPECT_EQ(
        volume().for_each_entry(ino("small"), cookie, [](const DirEntry&) { return true; }).error(),
        Errno::NotDir);
}

TEST_P(Ext2Image, LookupWalksPathsAndReportsErrors) {
    uint32_t deep = ino("a/b/c/deep.txt");
    EXPECT_EQ(walk(volume(), "a/b/c/../../b/c/deep.txt").value_or(0), deep);
    EXPECT_EQ(volume().lookup(Volume::kRootIno, "missing").error(), Errno::NoEnt);
    EXPECT_EQ(volume().lookup(Volume::kRootIno, "").error(), Errno::NoEnt);
    EXPECT_EQ(volume().lookup(Volume::kRootIno, "smal").error(), Errno::NoEnt);
    EXPECT_EQ(volume().lookup(Volume::kRootIno, "small2").error(), Errno::NoEnt);
    EXPECT_EQ(volume().lookup(ino("small"), "x").error(), Errno::NotDir);
    EXPECT_EQ(volume().lookup(Volume::kRootIno, std::string(256, 'a')).error(), Errno::NameTooLong);
    EXPECT_EQ(volume().lookup(Volume::kRootIno, std::string(255, 'a')).error(), Errno::NoEnt);
    std::byte buffer[16];
    EXPECT_EQ(volume().read(Volume::kRootIno, 0, buffer).error(), Errno::IsDir);
    EXPECT_EQ(volume().read(ino("fifo"), 0, buffer).error(), Errno::Inval);
    DirEntry entry;
    uint64_t cookie = 0;
    EXPECT_EQ(volume().next_entry(ino("small"), cookie, entry).error(), Errno::NotDir);
}

const Config kBase1k{"b1k_i128", 1024, "-b 1024 -I 128", true, true};

INSTANTIATE_TEST_SUITE_P(
    Ext2, Ext2Image,
    testing::Values(kBase1k, Config{"b2k_rev0", 2048, "-r 0 -b 2048", false, false},
                    Config{"b4k_i256", 4096, "-b 4096 -I 256", true, true},
                    Config{"b1k_nofiletype", 1024, "-b 1024 -I 256 -O ^filetype", true, false},
                    Config{"b64k", 65536, "-b 65536 -I 256", true, true}),
    [](const testing::TestParamInfo<Config>& info) { return std::string(info.param.name); });

// ---- Corrupted images ----------------------------------------------------------------------

// Patches a copy of the 1 KiB-block image (128-byte inodes, FILETYPE) and mounts the result.
// Where things are (inodes, directory entries) is found on the pristine copy.
class Ext2Corrupt : public testing::Test {
protected:
    static constexpr uint64_t kSuper = 1024;
    static constexpr uint32_t kBs = 1024;

    void SetUp() override {
        if (!have_mke2fs()) GTEST_SKIP() << "mke2fs not found (scripts/deps installs e2fsprogs)";
        const Built* built = built_for(kBase1k);
        ASSERT_TRUE(built);
        m_image = built->image;
        auto volume = mount();
        ASSERT_FALSE(volume.is_error());
        m_pristine.emplace(volume.release_value());
    }

    lib::Result<Volume> mount() {
        m_devices.push_back(std::make_unique<MemoryDevice>(m_image));
        return Volume::mount(*m_devices.back());
    }
    // Mounts the patched image, which must still mount.
    Volume remount() {
        auto volume = mount();
        EXPECT_FALSE(volume.is_error()) << lib::errno_name(volume.error());
        return volume.release_value();
    }

    // Little-endian fields of the image (the host is x86-64), bounds-checked by at().
    uint32_t le32(uint64_t at) const {
        (void)m_image.at(at + 3);
        uint32_t v;
        std::memcpy(&v, &m_image[at], 4);
        return v;
    }
    void put16(uint64_t at, uint16_t v) {
        (void)m_image.at(at + 1);
        std::memcpy(&m_image[at], &v, 2);
    }
    void put32(uint64_t at, uint32_t v) {
        (void)m_image.at(at + 3);
        std::memcpy(&m_image[at], &v, 4);
    }

    uint32_t ino(const std::string& path) const { return walk(*m_pristine, path).value_or(0); }
    // Byte offset of inode `ino` in the image: group descriptor, inode table, index.
    uint64_t inode_at(uint32_t number) const {
        uint32_t per_group = le32(kSuper + 0x28);
        uint64_t descriptor = 2 * kBs + uint64_t((number - 1) / per_group) * 32;
        return uint64_t(le32(descriptor + 8)) * kBs + uint64_t((number - 1) % per_group) * 128;
    }
    uint64_t block_pointer_at(uint32_t number, size_t slot) const {
        return inode_at(number) + 0x28 + 4 * slot;
    }
    // Byte offset of the entry called `name` in the first block of directory `dir`.
    uint64_t dirent_at(uint32_t dir, const std::string& name) const {
        uint64_t block = m_pristine->block_offset(dir, 0).value_or(0);
        for (uint64_t at = block; at < block + kBs;) {
            uint16_t rec_len = uint16_t(le32(at + 4));
            size_t length = size_t(m_image.at(at + 6));
            if (std::memcmp(&m_image.at(at + 8), name.data(), name.size()) == 0 &&
                length == name.size())
                return at;
            if (rec_len == 0) break;
            at += rec_len;
        }
        ADD_FAILURE() << "no entry " << name;
        return 0;
    }

    std::vector<std::byte> m_image;
    std::optional<Volume> m_pristine;

private:
    std::vector<std::unique_ptr<MemoryDevice>> m_devices;
};

Errno mount_error(lib::Result<Volume> volume) {
    return volume.is_error() ? volume.error() : Errno{};
}

TEST_F(Ext2Corrupt, SuperblockFieldsAreChecked) {
    uint32_t inodes = le32(kSuper + 0x00);
    uint32_t blocks = le32(kSuper + 0x04);
    struct Case {
        const char* what;
        size_t field;
        int width;
        uint32_t value;
        Errno expected;
    };
    const Case cases[] = {
        {"bad magic", 0x38, 2, 0xef54, Errno::Inval},
        {"log block size 7 (128 KiB)", 0x18, 4, 7, Errno::Io},
        {"log block size 2^32-1", 0x18, 4, 0xffffffff, Errno::Io},
        {"no inodes", 0x00, 4, 0, Errno::Io},
        {"one inode more than the groups hold", 0x00, 4, inodes + 1, Errno::Io},
        {"no blocks", 0x04, 4, 0, Errno::Io},
        {"more blocks than the device", 0x04, 4, blocks + 1, Errno::Io},
        {"first data block 0 with 1 KiB blocks", 0x14, 4, 0, Errno::Io},
        {"no blocks per group", 0x20, 4, 0, Errno::Io},
        {"more blocks per group than a bitmap holds", 0x20, 4, 8 * kBs + 1, Errno::Io},
        {"no inodes per group", 0x28, 4, 0, Errno::Io},
        {"absurd inodes per group", 0x28, 4, 0x80000000, Errno::Io},
        {"inode size 100", 0x58, 2, 100, Errno::Io},
        {"inode size 192 (not a power of two)", 0x58, 2, 192, Errno::Io},
        {"inode size larger than a block", 0x58, 2, 2048, Errno::Io},
        {"revision 2", 0x4c, 4, 2, Errno::OpNotSupp},
    };
    std::vector<std::byte> pristine = m_image;
    for (const Case& c : cases) {
        m_image = pristine;
        if (c.width == 2)
            put16(kSuper + c.field, uint16_t(c.value));
        else
            put32(kSuper + c.field, c.value);
        EXPECT_EQ(mount_error(mount()), c.expected) << c.what;
    }
}

TEST_F(Ext2Corrupt, DevicesTooSmallAreRefused) {
    m_image.resize(m_image.size() - kBs);  // the last block is gone
    EXPECT_EQ(mount_error(mount()), Errno::Io);
    m_image.resize(2047);
    EXPECT_EQ(mount_error(mount()), Errno::Inval);
    m_image.clear();
    EXPECT_EQ(mount_error(mount()), Errno::Inval);
}

TEST_F(Ext2Corrupt, UnknownIncompatFeaturesAreRefused) {
    uint32_t incompat = le32(kSuper + 0x60);
    // COMPRESSION, RECOVER, JOURNAL_DEV, META_BG, EXTENTS, 64BIT, MMP, FLEX_BG, EA_INODE,
    // DIRDATA, CSUM_SEED, LARGEDIR, INLINE_DATA, ENCRYPT, CASEFOLD, and an unassigned bit.
    for (uint32_t bit : {0x1u, 0x4u, 0x8u, 0x10u, 0x40u, 0x80u, 0x100u, 0x200u, 0x400u, 0x1000u,
                         0x2000u, 0x4000u, 0x8000u, 0x10000u, 0x20000u, 0x80000000u}) {
        put32(kSuper + 0x60, incompat | bit);
        EXPECT_EQ(mount_error(mount()), Errno::OpNotSupp) << std::hex << bit;
    }
    put32(kSuper + 0x60, incompat);
    uint32_t ro_compat = le32(kSuper + 0x64);
    put32(kSuper + 0x64, ro_compat | 0x200);  // BIGALLOC
    EXPECT_EQ(mount_error(mount()), Errno::OpNotSupp);
    // Read-only-compatible features that do not change how a reader reads, and any COMPAT.
    put32(kSuper + 0x64, ro_compat | 0x1 | 0x2 | 0x8 | 0x20 | 0x40 | 0x100 | 0x1000 | 0x2000);
    put32(kSuper + 0x5c, 0xffffffff);
    Volume volume = remount();
    std::byte small[100];
    EXPECT_EQ(volume.read(ino("small"), 0, small).value_or(0), 100u);
}

TEST_F(Ext2Corrupt, GroupDescriptorsAndTheRootInodeAreChecked) {
    uint64_t descriptor = 2 * kBs;
    uint32_t table = le32(descriptor + 8);
    put32(descriptor + 8, 0);
    EXPECT_EQ(mount_error(mount()), Errno::Io);
    put32(descriptor + 8, le32(kSuper + 0x04) - 1);  // the table would run off the end
    EXPECT_EQ(mount_error(mount()), Errno::Io);
    put32(descriptor + 8, table);
    // An inode table marked uninitialized (with GDT_CSUM) holds no live inode.
    uint32_t ro_compat = le32(kSuper + 0x64);
    put32(kSuper + 0x64, ro_compat | 0x10);
    put16(descriptor + 0x12, 0x1);
    EXPECT_EQ(mount_error(mount()), Errno::Io);
    put16(descriptor + 0x12, 0);
    put32(kSuper + 0x64, ro_compat);

    uint64_t root = inode_at(Volume::kRootIno);
    put16(root, 0);  // a free inode
    EXPECT_EQ(mount_error(mount()), Errno::Io);
    put16(root, 0100755);  // not a directory
    EXPECT_EQ(mount_error(mount()), Errno::Io);
    put16(root, 0040755);
    put16(root + 0x1a, 0);  // deleted: no links and a deletion time
    put32(root + 0x14, 1234);
    EXPECT_EQ(mount_error(mount()), Errno::Io);
}

TEST_F(Ext2Corrupt, BadDirectoryEntriesAreIo) {
    uint64_t dot = dirent_at(Volume::kRootIno, ".");
    uint64_t dotdot = dot + 12;
    auto expect_io = [&](const char* what) {
        Volume volume = remount();
        uint64_t cookie = 0;
        DirEntry entry;
        lib::Result<bool> more = false;
        for (int i = 0; i < 100; ++i) {
            more = volume.next_entry(Volume::kRootIno, cookie, entry);
            if (more.is_error() || !more.value()) break;
        }
        EXPECT_TRUE(more.is_error() && more.error() == Errno::Io) << what;
        EXPECT_EQ(volume.lookup(Volume::kRootIno, "small").error(), Errno::Io) << what;
    };
    std::vector<std::byte> pristine = m_image;
    struct Case {
        const char* what;
        uint64_t at;
        int width;
        uint32_t value;
    };
    const Case cases[] = {
        {"rec_len 0", dot + 4, 2, 0},
        {"rec_len 8 (below the minimum)", dot + 4, 2, 8},
        {"rec_len not a multiple of 4", dot + 4, 2, 14},
        {"rec_len past the block", dot + 4, 2, kBs + 12},
        {"rec_len reaching past the block from the second entry", dotdot + 4, 2, kBs},
        {"name_len past rec_len - 8", dot + 6, 1, 5},
        {"inode past s_inodes_count", dotdot, 4, le32(kSuper) + 1},
        {"directory size not whole blocks", inode_at(2) + 4, 4, kBs + 100},
        {"a hole in the directory", block_pointer_at(2, 0), 4, 0},
        {"a directory block past the end", block_pointer_at(2, 0), 4, le32(kSuper + 4)},
    };
    for (const Case& c : cases) {
        m_image = pristine;
        if (c.width == 1) m_image.at(c.at) = std::byte(c.value);
        if (c.width == 2) put16(c.at, uint16_t(c.value));
        if (c.width == 4) put32(c.at, c.value);
        expect_io(c.what);
    }

    // An entry naming a free inode: the name resolves, the inode does not.
    m_image = pristine;
    uint32_t free_inode = le32(kSuper);  // the last inode is unused in this image
    put32(dirent_at(Volume::kRootIno, "small"), free_inode);
    Volume volume = remount();
    EXPECT_EQ(volume.lookup(Volume::kRootIno, "small").value_or(0), free_inode);
    EXPECT_EQ(volume.stat(free_inode).error(), Errno::Io);
    EXPECT_EQ(volume.read_link(free_inode, std::span<char>()).error(), Errno::Io);
}

TEST_F(Ext2Corrupt, BadBlockPointersAreIoAndZeroIsAHole) {
    uint32_t single = ino("single");
    uint32_t blocks = le32(kSuper + 4);
    std::byte buffer[64];
    std::vector<std::byte> pristine = m_image;

    put32(block_pointer_at(single, 0), blocks);  // direct pointer past the end
    Volume v1 = remount();
    EXPECT_EQ(v1.read(single, 0, buffer).error(), Errno::Io);
    EXPECT_EQ(v1.block_offset(single, 0).error(), Errno::Io);
    EXPECT_FALSE(v1.stat(single).is_error());
    EXPECT_EQ(v1.read(single, kBs, buffer).value_or(0), sizeof(buffer));

    m_image = pristine;
    put32(block_pointer_at(single, 12), 0xffffffff);  // the indirect block past the end
    Volume v2 = remount();
    EXPECT_EQ(v2.read(single, 12 * kBs, buffer).error(), Errno::Io);
    EXPECT_EQ(v2.read(single, 11 * kBs, buffer).value_or(0), sizeof(buffer));

    m_image = pristine;
    uint32_t indirect = le32(block_pointer_at(single, 12));
    put32(uint64_t(indirect) * kBs + 4, blocks + 5);  // a pointer inside the indirect block
    Volume v3 = remount();
    EXPECT_EQ(v3.read(single, 13 * kBs, buffer).error(), Errno::Io);
    EXPECT_EQ(v3.read(single, 12 * kBs, buffer).value_or(0), sizeof(buffer));

    m_image = pristine;
    put32(block_pointer_at(single, 12), 0);  // the whole indirect range becomes a hole
    Volume v4 = remount();
    std::fill(std::begin(buffer), std::end(buffer), std::byte{0xff});
    EXPECT_EQ(v4.read(single, 12 * kBs, buffer).value_or(0), sizeof(buffer));
    for (std::byte b : buffer) EXPECT_EQ(b, std::byte{0});
    EXPECT_EQ(v4.block_offset(single, 13).value_or(1), 0u);
}

TEST_F(Ext2Corrupt, IndirectLoopsStayBounded) {
    // The double-indirect block points at itself, and the triple one at it too; the file
    // claims the largest size a block map can hold and then some.
    uint32_t file = ino("double");
    uint32_t loop = le32(block_pointer_at(file, 13));
    for (uint32_t slot = 0; slot < kBs / 4; ++slot) put32(uint64_t(loop) * kBs + 4 * slot, loop);
    put32(block_pointer_at(file, 14), loop);
    put32(inode_at(file) + 0x6c, 0xffffffff);  // i_size_high
    Volume volume = remount();
    std::byte buffer[3000];
    uint64_t triple = triple_start(kBs) * kBs;
    for (uint64_t offset : {double_start(kBs) * kBs, triple - 1000, triple + 123456789}) {
        auto got = volume.read(file, offset, buffer);
        ASSERT_FALSE(got.is_error()) << offset;  // a loop of valid blocks reads their bytes
        EXPECT_EQ(got.value(), sizeof(buffer));
    }
    // Past what 12 + 256 + 256^2 + 256^3 blocks reach, the size itself is corrupt.
    uint64_t reach = (triple_start(kBs) + uint64_t(1 << 24)) * kBs;
    EXPECT_EQ(volume.read(file, reach, buffer).error(), Errno::Io);
    EXPECT_EQ(volume.block_offset(file, reach / kBs).error(), Errno::Io);
}

TEST_F(Ext2Corrupt, InodesThatAreNotBlockMapsAreRefused) {
    uint32_t small = ino("small");
    uint64_t flags = inode_at(small) + 0x20;
    std::byte buffer[16];
    for (uint32_t flag : {0x80000u /* EXTENTS */, 0x10000000u /* INLINE_DATA */, 0x800u}) {
        put32(flags, flag);
        Volume volume = remount();
        EXPECT_FALSE(volume.stat(small).is_error());
        EXPECT_EQ(volume.read(small, 0, buffer).error(), Errno::OpNotSupp) << flag;
        EXPECT_EQ(volume.block_offset(small, 0).error(), Errno::OpNotSupp) << flag;
    }
    put32(flags, 0);
    put32(inode_at(Volume::kRootIno) + 0x20, 0x80000);
    Volume volume = remount();
    EXPECT_EQ(volume.lookup(Volume::kRootIno, "small").error(), Errno::OpNotSupp);
}

TEST_F(Ext2Corrupt, SymlinkSizesAreChecked) {
    char target[2048];
    uint32_t fast = ino("link-fast");
    uint32_t slow = ino("link-slow");
    put32(inode_at(fast) + 4, 60);  // no room left for the NUL in i_block
    put32(inode_at(slow) + 4, kBs);
    Volume volume = remount();
    EXPECT_EQ(volume.read_link(fast, target).error(), Errno::Io);
    EXPECT_EQ(volume.read_link(slow, target).error(), Errno::Io);
    std::byte buffer[8];
    EXPECT_EQ(volume.read(slow, 0, buffer).error(), Errno::Io);
}

// Random damage to the metadata-heavy start of the image, then a bounded walk of everything:
// whatever the answers, the sanitizers must stay quiet and every call must return.
void walk_everything(const Volume& volume) {
    uint32_t queue[64] = {Volume::kRootIno};
    size_t head = 0, tail = 1, visited = 0;
    std::vector<std::byte> buffer(4096);
    char link[256];
    while (head < tail && visited < 400) {
        uint32_t dir = queue[head++];
        uint64_t cookie = 0;
        DirEntry entry;
        for (int n = 0; n < 300 && volume.next_entry(dir, cookie, entry).value_or(false); ++n) {
            ++visited;
            if (entry.name_length <= 2 && entry.name[0] == '.') continue;
            (void)volume.lookup(dir, std::string_view(entry.name, entry.name_length));
            auto info = volume.stat(entry.ino);
            if (info.is_error()) continue;
            (void)volume.read(entry.ino, 0, buffer);
            (void)volume.read(entry.ino, info.value().size / 2, buffer);
            (void)volume.read_link(entry.ino, link);
            for (uint64_t index : {0, 1, 12, 300}) (void)volume.block_offset(entry.ino, index);
            if ((info.value().mode & 0170000) == 0040000 && tail < std::size(queue))
                queue[tail++] = entry.ino;
        }
    }
}

TEST_F(Ext2Corrupt, RandomDamageNeverCrashes) {
    std::mt19937 random(20240601);
    std::vector<std::byte> pristine = m_image;
    size_t mounted = 0;
    for (int round = 0; round < 300; ++round) {
        std::vector<std::pair<size_t, std::byte>> undo;
        int flips = 1 + int(random() % 8);
        for (int i = 0; i < flips; ++i) {
            size_t at = random() % (160 * kBs);
            undo.emplace_back(at, m_image[at]);
            m_image[at] = std::byte(random());
        }
        ViewDevice device(m_image);
        auto volume = Volume::mount(device);
        if (!volume.is_error()) {
            ++mounted;
            walk_everything(volume.value());
        }
        for (auto it = undo.rbegin(); it != undo.rend(); ++it) m_image[it->first] = it->second;
    }
    EXPECT_EQ(m_image, pristine);
    EXPECT_GT(mounted, 100u);  // most damage leaves the superblock alone
}

}  // namespace
