// Pseudo filesystem inodes: a table node, the directory it was looked up in, and the number
// it stands for in a numbered directory.
#include "kernel/fs/pseudo_fs.h"

#include "kernel/arch/x86_64/layout.h"
#include "kernel/fs/snapshot_file.h"
#include "kernel/mm/heap.h"
#include "kernel/sys/linux_types.h"

namespace kernel::fs {

namespace {

constexpr uint32_t type_bits(PseudoKind kind) {
    switch (kind) {
        case PseudoKind::Directory:
        case PseudoKind::Numbered:
            return kTypeDirectory;
        case PseudoKind::Link:
            return kTypeSymlink;
        case PseudoKind::Device:
            return kTypeCharDevice;
        case PseudoKind::File:
            break;
    }
    return kTypeRegular;
}

uint32_t mode_of(const PseudoNode& node) { return type_bits(node.kind) | node.permissions; }

// Inode numbers come from where the node sits in the kernel image (linked below 4 GiB of
// its base, so the low 32 bits differ between nodes), with the argument above them: unique,
// the same on every boot of a build, and no table of numbers to keep in step by hand.
uint64_t ino_of(const PseudoNode& node, uint64_t argument) {
    return (reinterpret_cast<uint64_t>(&node) & 0xffffffffu) | (argument << 32);
}

bool is_directory_kind(PseudoKind kind) {
    return kind == PseudoKind::Directory || kind == PseudoKind::Numbered;
}

// A decimal number without sign or leading zeros, as the names of numbered entries are.
bool parse_number(std::string_view name, uint64_t& value) {
    if (name.empty() || name.size() > 9 || (name[0] == '0' && name.size() > 1)) return false;
    value = 0;
    for (char c : name) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + uint64_t(c - '0');
    }
    return true;
}

void fill_entry(DirEntry& out, uint64_t ino, uint32_t mode, std::string_view name) {
    out.ino = ino;
    out.type = dt_type(mode);
    out.name_length = uint8_t(name.size());
    __builtin_memcpy(out.name, name.data(), name.size());
    out.name[name.size()] = '\0';
}

class PseudoInode final : public Inode {
public:
    PseudoInode(const PseudoFs& fs, const PseudoNode& node, PseudoInode* parent, uint64_t argument)
        : m_fs(fs), m_node(node), m_parent(parent), m_argument(argument) {
        if (m_parent) m_parent->retain();
    }
    // Trees are a few levels deep: releasing the parents recursively is fine.
    ~PseudoInode() override {
        if (m_parent) m_parent->release();
    }

    uint32_t mode() const override { return mode_of(m_node); }
    uint64_t size() const override { return 0; }  // as Linux's /proc: generated on read
    uint64_t ino() const override { return ino_of(m_node, m_argument); }
    const void* filesystem() const override { return &m_fs; }
    // Devices take writes (access(W_OK) says so); nothing else here does.
    bool writable() const override { return m_node.kind == PseudoKind::Device; }
    lib::ErrorOr stat(sys::LinuxStat& out) const override {
        pseudo_stat(m_fs, m_node, m_argument, out);
        return {};
    }
    lib::Result<FsStats> statfs() const override {
        FsStats stats{};
        stats.type = m_fs.magic;
        stats.block_size = arch::kPageSize;
        stats.flags = 0x20 | 0x1;  // ST_VALID | ST_RDONLY
        return stats;
    }

    lib::Result<Inode*> lookup(std::string_view name) override;
    lib::Result<bool> next_entry(uint64_t& cookie, DirEntry& out) override;
    lib::Result<size_t> read_link(std::span<char> out) override;
    lib::Result<File*> open(int flags, std::string_view path) override;
    lib::ErrorOr open_for_write(bool) override {
        if (m_node.kind == PseudoKind::Device) return {};
        return is_directory_kind(m_node.kind) ? lib::Errno::IsDir : lib::Errno::Access;
    }

private:
    lib::Result<Inode*> child(const PseudoNode& node, uint64_t argument) {
        auto* made = mm::try_make<PseudoInode>(m_fs, node, this, argument);
        if (!made) return lib::Errno::NoMem;
        return static_cast<Inode*>(made);
    }

    const PseudoFs& m_fs;
    const PseudoNode& m_node;
    PseudoInode* m_parent;  // a reference; nullptr for the root
    uint64_t m_argument;
};

lib::Result<Inode*> PseudoInode::lookup(std::string_view name) {
    if (!is_directory_kind(m_node.kind)) return lib::Errno::NotDir;
    if (name == "." || (name == ".." && !m_parent)) {
        retain();
        return static_cast<Inode*>(this);
    }
    if (name == "..") {
        m_parent->retain();
        return static_cast<Inode*>(m_parent);
    }
    if (m_node.kind == PseudoKind::Numbered) {
        uint64_t number;
        if (m_node.children.empty() || !parse_number(name, number) || m_node.scan(number) != number)
            return lib::Errno::NoEnt;
        return child(m_node.children[0], number);
    }
    for (const PseudoNode& node : m_node.children)
        if (node.name == name) return child(node, 0);
    return lib::Errno::NoEnt;
}

lib::Result<bool> PseudoInode::next_entry(uint64_t& cookie, DirEntry& out) {
    if (!is_directory_kind(m_node.kind)) return lib::Errno::NotDir;
    // 0 ".", 1 "..", then 2 + the index of a child (or the number of a numbered entry).
    if (cookie == 0) {
        fill_entry(out, ino(), mode(), ".");
        cookie = 1;
        return true;
    }
    if (cookie == 1) {
        fill_entry(out, m_parent ? m_parent->ino() : ino(), mode(), "..");
        cookie = 2;
        return true;
    }
    if (m_node.kind == PseudoKind::Numbered) {
        if (m_node.children.empty()) return false;
        uint64_t number = m_node.scan(cookie - 2);
        if (number == kNoNumber) return false;
        char name[24];
        auto text = lib::format_buffer(name, sizeof(name), "{}", number);
        const PseudoNode& node = m_node.children[0];
        fill_entry(out, ino_of(node, number), mode_of(node), text);
        cookie = number + 3;
        return true;
    }
    if (cookie - 2 >= m_node.children.size()) return false;
    const PseudoNode& node = m_node.children[cookie - 2];
    fill_entry(out, ino_of(node, 0), mode_of(node), node.name);
    ++cookie;
    return true;
}

lib::Result<size_t> PseudoInode::read_link(std::span<char> out) {
    if (m_node.kind != PseudoKind::Link) return lib::Errno::Inval;
    lib::BufferSink sink(out.data(), out.size());
    m_node.link(sink, m_argument);
    // A full buffer tells the caller to try a bigger one (BufferSink keeps a byte for a NUL).
    return sink.truncated() ? out.size() : sink.view().size();
}

lib::Result<File*> PseudoInode::open(int flags, std::string_view path) {
    switch (m_node.kind) {
        case PseudoKind::File:
            return SnapshotFile::create(*this, flags, path, m_node.file, m_argument);
        case PseudoKind::Device:
            return open_device(*this, m_node.device, flags, path);
        default:
            return Inode::open(flags, path);
    }
}

}  // namespace

lib::Result<Inode*> make_pseudo_root(const PseudoFs& fs) {
    auto* root = mm::try_make<PseudoInode>(fs, fs.root, nullptr, 0);
    if (!root) return lib::Errno::NoMem;
    return static_cast<Inode*>(root);
}

void pseudo_stat(const PseudoFs& fs, const PseudoNode& node, uint64_t argument,
                 sys::LinuxStat& out) {
    out = {};
    out.dev = fs.dev;
    out.ino = ino_of(node, argument);
    out.nlink = is_directory_kind(node.kind) ? 2 : 1;
    out.mode = mode_of(node);
    if (node.kind == PseudoKind::Device) out.rdev = device_number(node.device);
    out.blksize = 1024;
    Timestamp time = now();  // Linux's procfs: when the inode was made, which is now
    out.atime = out.mtime = out.ctime = uint64_t(time.seconds);
    out.atime_nsec = out.mtime_nsec = out.ctime_nsec = time.nanoseconds;
}

}  // namespace kernel::fs
