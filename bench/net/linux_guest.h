// The Linux guest subject: a Debian kernel found on the host (/boot/vmlinuz-*, its modules
// under /lib/modules), and an initramfs built at bench time holding busybox, the HTTP server,
// the virtio modules it needs and an /init that configures eth0 statically and execs the
// server.
#pragma once

#include <string>
#include <vector>

namespace bench::net {

struct LinuxKernel {
    std::string image;                 // /boot/vmlinuz-VERSION
    std::string version;               // VERSION
    std::vector<std::string> modules;  // .ko files in load order (dependencies first)
};

// The kernel named by `image` (or, when empty, the newest cloud kernel in /boot, else the
// newest of any flavour) with the modules virtio_mmio and virtio_net need. "" in `error`
// on success.
LinuxKernel find_linux_kernel(const std::string& image, std::string& error);

struct GuestNetwork {
    std::string address;  // dotted quad
    int prefix_length = 24;
    std::string gateway;
    int port = 0;
};

// Writes the initramfs (an uncompressed newc cpio) to `path`; "" on success, else why not.
std::string write_initramfs(const std::string& path, const LinuxKernel& kernel,
                            const std::string& busybox, const std::string& server,
                            const GuestNetwork& network);

// The newc cpio archive format (the kernel's initramfs format): entries, then the trailer.
class CpioWriter {
public:
    void directory(const std::string& name);
    void file(const std::string& name, const std::string& data, unsigned mode);
    void char_device(const std::string& name, unsigned major, unsigned minor);
    std::string finish();

private:
    void entry(const std::string& name, unsigned mode, const std::string& data, unsigned major,
               unsigned minor);
    std::string m_out;
    unsigned m_inode = 1;
};

}  // namespace bench::net
