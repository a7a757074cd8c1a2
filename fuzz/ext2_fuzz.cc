// Fuzzes lib/fs/ext2 with the input as a whole disk image: mount it, then walk the tree from
// the root breadth-first (bounded depth and entry count) and stat, read, read_link, lookup and
// block_offset everything found. Nothing may crash, hang or read outside the image; answers
// that contradict each other (a listed name that lookup cannot find, a block offset whose
// bytes differ from what read returns, more bytes than asked for) abort.
//
// The seeds in fuzz/corpus/ext2 are 64 KiB images made by mke2fs -d (1 and 2 KiB blocks,
// revision 0 and 1, with and without FILETYPE) from a tree holding a small file, a file
// reaching the single-indirect block, a sparse file with data in the triple-indirect range,
// fast and slow symlinks, nested directories, one directory spanning two blocks, a fifo and
// a character device (added by debugfs mknod); plus copies of the first with a zero rec_len,
// an indirect block pointer past the end, and the EXTENTS feature set.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "lib/base/checked.h"
#include "lib/fs/ext2/volume.h"

using namespace lib::fs::ext2;

namespace {

#define FUZZ_CHECK(condition)               \
    do {                                    \
        if (!(condition)) __builtin_trap(); \
    } while (0)

constexpr size_t kMaxDirectories = 32;
constexpr size_t kMaxDepth = 5;
constexpr size_t kMaxEntries = 256;
constexpr size_t kMaxEntriesPerDirectory = 96;

class InputDevice final : public BlockDevice {
public:
    explicit InputDevice(std::span<const std::byte> bytes) : m_bytes(bytes) {}
    lib::ErrorOr read(uint64_t offset, std::span<std::byte> out) override {
        if (!lib::range_within(offset, out.size(), m_bytes.size())) return lib::Errno::Io;
        if (!out.empty()) std::memcpy(out.data(), m_bytes.data() + offset, out.size());
        return {};
    }
    uint64_t size() const override { return m_bytes.size(); }
    std::span<const std::byte> bytes() const { return m_bytes; }

private:
    std::span<const std::byte> m_bytes;
};

// A regular file or symlink: reads at a few offsets, and block offsets checked against them.
void exercise_data(const Volume& volume, const InputDevice& device, const InodeInfo& info) {
    static std::byte buffer[8192];
    uint32_t bs = volume.block_size();
    for (uint64_t offset : {uint64_t(0), uint64_t(bs - 7), info.size / 2, info.size - 1}) {
        auto got = volume.read(info.ino, offset, buffer);
        if (got.is_error()) continue;
        uint64_t expected = offset < info.size ? info.size - offset : 0;
        FUZZ_CHECK(got.value() == (expected < sizeof(buffer) ? expected : sizeof(buffer)));
    }
    for (uint64_t index : {uint64_t(0), uint64_t(1), uint64_t(12), uint64_t(13),
                           uint64_t(12 + bs / 4), info.size / bs}) {
        auto offset = volume.block_offset(info.ino, index);
        if (offset.is_error() || offset.value() == 0) continue;
        FUZZ_CHECK(offset.value() % bs == 0);
        FUZZ_CHECK(lib::range_within(offset.value(), bs, device.size()));
        // What read() returns for that block is what lies at the offset.
        size_t length = bs < sizeof(buffer) ? bs : sizeof(buffer);
        auto got = volume.read(info.ino, index * bs, std::span(buffer, length));
        if (got.is_error()) continue;
        FUZZ_CHECK(std::memcmp(buffer, device.bytes().data() + offset.value(), got.value()) == 0);
    }
    // The batched map agrees with the single one wherever the single one answers.
    for (uint64_t first : {uint64_t(0), uint64_t(10), uint64_t(12 + bs / 4 - 3)}) {
        uint64_t batch[80];
        auto filled = volume.block_offsets(info.ino, first, batch);
        if (filled.is_error()) continue;
        FUZZ_CHECK(filled.value() <= 80);
        for (uint64_t i = 0; i < filled.value(); ++i) {
            auto single = volume.block_offset(info.ino, first + i);
            FUZZ_CHECK(single.has_value() && single.value() == batch[i]);
        }
    }
}

void exercise_inode(const Volume& volume, const InputDevice& device, uint32_t ino) {
    auto info = volume.stat(ino);
    if (info.is_error()) return;
    FUZZ_CHECK(info.value().ino == ino);
    uint16_t type = info.value().mode & 0170000;
    char target[300];
    auto link = volume.read_link(ino, target);
    if (type != 0120000) FUZZ_CHECK(link.is_error() && link.error() == lib::Errno::Inval);
    if (link.has_value())
        FUZZ_CHECK(link.value() <= sizeof(target) && link.value() <= info.value().size);
    if (type == 0100000 || type == 0120000) exercise_data(volume, device, info.value());
}

// for_each_entry() over a whole directory agrees with next_entry(): count and final cookie.
void check_batched(const Volume& volume, uint32_t dir, size_t listed, uint64_t end) {
    uint64_t cookie = 0;
    size_t seen = 0;
    auto done =
        volume.for_each_entry(dir, cookie, [&](const DirEntry&) { return ++seen <= listed; });
    FUZZ_CHECK(done.has_value() && seen == listed && cookie == end);
}

void walk(const Volume& volume, const InputDevice& device) {
    uint32_t queue[kMaxDirectories] = {Volume::kRootIno};
    uint8_t depth[kMaxDirectories] = {0};
    size_t head = 0, tail = 1, entries = 0;
    while (head < tail && entries < kMaxEntries) {
        uint32_t dir = queue[head];
        uint8_t level = depth[head++];
        uint64_t cookie = 0;
        DirEntry entry;
        size_t listed = 0;
        bool ended = false;
        for (size_t n = 0; n < kMaxEntriesPerDirectory && entries < kMaxEntries; ++n) {
            uint64_t before = cookie;
            auto more = volume.next_entry(dir, cookie, entry);
            ended = more.has_value() && !more.value();
            if (more.is_error() || !more.value()) break;
            ++listed;
            FUZZ_CHECK(cookie > before && cookie % 4 == 0);
            FUZZ_CHECK(entry.name_length > 0 && entry.name[entry.name_length] == '\0');
            FUZZ_CHECK(entry.ino != 0 && entry.ino <= volume.inodes_count());
            ++entries;
            // Every entry listed so far was valid, so lookup reaches this one (or an earlier
            // one of the same name).
            auto found = volume.lookup(dir, std::string_view(entry.name, entry.name_length));
            FUZZ_CHECK(found.has_value());
            // A name one byte longer is a different name: found elsewhere, absent, or behind
            // a bad entry further on.
            if (entry.name_length < Volume::kMaxNameLength) {
                char longer[256];
                std::memcpy(longer, entry.name, entry.name_length);
                longer[entry.name_length] = '~';
                auto other = volume.lookup(dir, std::string_view(longer, entry.name_length + 1));
                FUZZ_CHECK(other.has_value() || other.error() == lib::Errno::NoEnt ||
                           other.error() == lib::Errno::Io);
            }
            std::string_view name(entry.name, entry.name_length);
            if (name == "." || name == "..") continue;
            exercise_inode(volume, device, entry.ino);
            if (entry.type == kDtDir && size_t(level) + 1 < kMaxDepth && tail < kMaxDirectories) {
                depth[tail] = uint8_t(level + 1);
                queue[tail++] = entry.ino;
            }
        }
        if (ended) check_batched(volume, dir, listed, cookie);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    InputDevice device({reinterpret_cast<const std::byte*>(data), size});
    auto volume = Volume::mount(device);
    if (volume.is_error()) return 0;
    FUZZ_CHECK(volume.value().block_size() >= 1024 && volume.value().block_size() <= 65536);
    exercise_inode(volume.value(), device, Volume::kRootIno);
    walk(volume.value(), device);
    return 0;
}
