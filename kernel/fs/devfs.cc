// devfs: the /dev table and the memory and random devices. The console and /dev/tty open as
// ConsoleFile (there is one terminal, the serial console, and it is the controlling one).
#include "kernel/fs/devfs.h"

#include <new>

#include "kernel/fs/console_file.h"
#include "kernel/fs/pseudo_fs.h"
#include "kernel/random/random.h"
#include "kernel/sys/linux_types.h"

namespace kernel::fs {

namespace {

constexpr uint64_t kDevfsDev = 0x05;          // 0:5, devtmpfs's on Linux
constexpr uint64_t kDevfsMagic = 0x01021994;  // devtmpfs is a tmpfs
constexpr int kAccessMode = 03, kReadOnly = 0, kWriteOnly = 01;
// Data written to /dev/random and /dev/urandom is mixed into the pool, as on Linux; only this
// much of each write, since every 32 bytes mixed cost a ChaCha block in emulated ring 0.
constexpr size_t kMixedPerWrite = 256;

constexpr PseudoNode device_node(std::string_view name, Device device, uint16_t permissions) {
    return {.name = name, .kind = PseudoKind::Device, .permissions = permissions, .device = device};
}

constexpr PseudoNode kDevEntries[] = {
    device_node("null", Device::Null, 0666),
    device_node("zero", Device::Zero, 0666),
    device_node("full", Device::Full, 0666),
    device_node("random", Device::Random, 0666),
    device_node("urandom", Device::Urandom, 0666),
    device_node("tty", Device::Tty, 0666),
    device_node("console", Device::Console, 0600),
    {.name = "stdin",
     .kind = PseudoKind::Link,
     .permissions = 0777,
     .link = [](lib::FormatSink& out, uint64_t) { out.write("/proc/self/fd/0"); }},
    {.name = "stdout",
     .kind = PseudoKind::Link,
     .permissions = 0777,
     .link = [](lib::FormatSink& out, uint64_t) { out.write("/proc/self/fd/1"); }},
    {.name = "stderr",
     .kind = PseudoKind::Link,
     .permissions = 0777,
     .link = [](lib::FormatSink& out, uint64_t) { out.write("/proc/self/fd/2"); }},
    {.name = "fd",
     .kind = PseudoKind::Link,
     .permissions = 0777,
     .link = [](lib::FormatSink& out, uint64_t) { out.write("/proc/self/fd"); }},
    {.name = "shm", .kind = PseudoKind::Directory, .permissions = 01777},  // a tmpfs covers it
    {.name = "pts", .kind = PseudoKind::Directory, .permissions = 0755},
};

constexpr PseudoNode kDevRoot = {
    .name = "/", .kind = PseudoKind::Directory, .permissions = 0755, .children = kDevEntries};
constexpr PseudoFs kDevfs{kDevfsDev, kDevfsMagic, kDevRoot};

// null, zero, full, random and urandom. Positions mean nothing to them: lseek says 0.
class DeviceFile final : public File {
public:
    DeviceFile(Inode& node, Device device, int flags)
        : m_node(&node), m_device(device), m_flags(flags) {
        m_node->retain();
    }
    ~DeviceFile() override { m_node->release(); }

    lib::Result<size_t> read(std::span<char> buffer) override {
        if ((m_flags & kAccessMode) == kWriteOnly) return lib::Errno::BadF;
        switch (m_device) {
            case Device::Null:
                return size_t(0);
            case Device::Random:  // seeded at boot: never blocks, as Linux since 5.6
            case Device::Urandom:
                random::fill(std::as_writable_bytes(buffer));
                return buffer.size();
            default:
                __builtin_memset(buffer.data(), 0, buffer.size());
                return buffer.size();
        }
    }
    lib::Result<size_t> write(std::span<const char> data) override {
        if ((m_flags & kAccessMode) == kReadOnly) return lib::Errno::BadF;
        if (m_device == Device::Full) return lib::Errno::NoSpc;
        if (m_device == Device::Random || m_device == Device::Urandom)
            random::mix(std::as_bytes(
                data.first(data.size() < kMixedPerWrite ? data.size() : kMixedPerWrite)));
        return data.size();
    }
    lib::Result<size_t> pread(std::span<char> buffer, uint64_t) override { return read(buffer); }
    lib::Result<size_t> pwrite(std::span<const char> data, uint64_t) override {
        return write(data);
    }
    lib::Result<int64_t> seek(int64_t, int) override { return 0; }
    lib::ErrorOr stat(sys::LinuxStat& out) override { return m_node->stat(out); }
    int status_flags() const override { return m_flags; }
    void describe(lib::FormatSink& out) const override { out.write(m_path.view()); }
    bool maps_as_anonymous() const override { return m_device == Device::Zero; }

    OpenPath& path() { return m_path; }

private:
    Inode* m_node;  // a reference
    Device m_device;
    int m_flags;
    OpenPath m_path;
};

}  // namespace

lib::Result<Inode*> make_devfs_root() { return make_pseudo_root(kDevfs); }

lib::Result<File*> open_device(Inode& node, Device device, int flags, std::string_view path) {
    if (device == Device::Tty || device == Device::Console) {
        auto* console = new (std::nothrow) ConsoleFile(device, flags);
        if (!console) return lib::Errno::NoMem;
        return static_cast<File*>(console);
    }
    auto* file = new (std::nothrow) DeviceFile(node, device, flags);
    if (!file) return lib::Errno::NoMem;
    if (auto named = file->path().set(path); named.is_error()) {
        file->release();
        return named.error();
    }
    return static_cast<File*>(file);
}

uint64_t device_number(Device device) {
    struct Number {
        uint32_t major, minor;
    };
    constexpr Number kNumbers[] = {{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1}};
    Number number = kNumbers[size_t(device)];
    return (uint64_t(number.major) << 8) | number.minor;  // glibc's makedev for small numbers
}

void device_stat(Device device, sys::LinuxStat& out) {
    for (const PseudoNode& node : kDevEntries) {
        if (node.kind == PseudoKind::Device && node.device == device) {
            pseudo_stat(kDevfs, node, 0, out);
            return;
        }
    }
    out = {};
}

}  // namespace kernel::fs
