// The Linux guest: kernel and module discovery on a Debian host, and the initramfs.
#include "bench/net/linux_guest.h"

#include <elf.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "bench/common/measure.h"

namespace bench::net {

namespace fs = std::filesystem;

namespace {

// What virtio-net over virtio-mmio needs (QEMU microvm's transport); the rest of the chain
// (virtio, virtio_ring, failover, net_failover) comes from modules.dep.
const char* const kWantedModules[] = {"virtio_mmio", "virtio_net"};

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return in ? out.str() : std::string();
}

// The guest's /init: busybox's applets, the virtio modules, eth0 with its static address (the
// device appears asynchronously once virtio_net probes it), then the server as PID 1.
constexpr const char* kInitScript = R"(#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
@INSMODS@i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
ip link set lo up
ip addr add @ADDRESS@ dev eth0 || echo 'init: no eth0'
ip link set eth0 up
ip route add default via @GATEWAY@
echo 'init: eth0 @ADDRESS@ up'
exec /http_server @PORT@
)";

// modules.dep lines: "kernel/a/b.ko: kernel/c.ko kernel/d.ko" (dependencies of b, the ones
// to load last first). Appends the modules `name` needs, then `name`, skipping repeats.
void add_with_dependencies(const std::map<std::string, std::vector<std::string>>& deps,
                           const std::string& module, std::vector<std::string>& order) {
    if (std::find(order.begin(), order.end(), module) != order.end()) return;
    auto found = deps.find(module);
    if (found != deps.end())
        for (auto it = found->second.rbegin(); it != found->second.rend(); ++it)
            add_with_dependencies(deps, *it, order);
    order.push_back(module);
}

// "kernel/drivers/net/virtio_net.ko.xz" -> "virtio_net"
std::string module_name(const std::string& path) {
    std::string name = fs::path(path).filename().string();
    name = name.substr(0, name.find(".ko"));
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
}

bool builtin(const std::string& modules_dir, const std::string& name) {
    std::ifstream in(modules_dir + "/modules.builtin");
    for (std::string line; std::getline(in, line);)
        if (module_name(line) == name) return true;
    return false;
}

// A module's bytes, decompressed when Debian ships it compressed (trixie: .ko.xz).
std::string module_bytes(const std::string& path, std::string& error) {
    auto ends_with = [&](const char* suffix) {
        std::string s = suffix;
        return path.size() > s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
    };
    if (ends_with(".ko")) return read_all(path);
    const char* tool = ends_with(".xz")    ? "/usr/bin/xz"
                       : ends_with(".zst") ? "/usr/bin/zstd"
                                           : nullptr;
    if (!tool) {
        error = "unknown module compression: " + path;
        return {};
    }
    Output output = capture({tool, "-dc", path}, 30000);
    if (output.status != 0) error = std::string("cannot decompress ") + path + " with " + tool;
    return output.out;
}

// Whether an ELF64 file has no PT_INTERP (the initramfs has no libraries to give it).
bool static_elf(const std::string& bytes) {
    Elf64_Ehdr header;
    if (bytes.size() < sizeof header) return false;
    std::memcpy(&header, bytes.data(), sizeof header);
    if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64)
        return false;
    for (unsigned i = 0; i < header.e_phnum; ++i) {
        Elf64_Phdr program;
        uint64_t offset = header.e_phoff + uint64_t(i) * sizeof program;
        if (offset + sizeof program > bytes.size()) return false;
        std::memcpy(&program, bytes.data() + offset, sizeof program);
        if (program.p_type == PT_INTERP) return false;
    }
    return true;
}

}  // namespace

LinuxKernel find_linux_kernel(const std::string& image, std::string& error) {
    LinuxKernel kernel;
    kernel.image = image;
    if (kernel.image.empty()) {
        std::vector<std::string> found;
        std::error_code ignored;
        for (const auto& entry : fs::directory_iterator("/boot", ignored))
            if (entry.path().filename().string().rfind("vmlinuz-", 0) == 0)
                found.push_back(entry.path().string());
        std::sort(found.begin(), found.end());
        auto cloud = std::find_if(found.rbegin(), found.rend(), [](const std::string& p) {
            return p.find("-cloud-") != std::string::npos;
        });
        if (cloud != found.rend())
            kernel.image = *cloud;
        else if (!found.empty())
            kernel.image = found.back();
    }
    if (kernel.image.empty() || !fs::exists(kernel.image)) {
        error =
            "no Linux kernel in /boot (scripts/deps installs Debian's "
            "linux-image-cloud-amd64)";
        return kernel;
    }
    std::string file = fs::path(kernel.image).filename().string();
    kernel.version = file.rfind("vmlinuz-", 0) == 0 ? file.substr(8) : "";
    std::string modules_dir = "/lib/modules/" + kernel.version;
    std::ifstream dep_file(modules_dir + "/modules.dep");
    if (!dep_file) {
        error = "no " + modules_dir + "/modules.dep for " + kernel.image;
        return kernel;
    }
    std::map<std::string, std::vector<std::string>> deps;  // by module name, of full paths
    std::map<std::string, std::string> paths;
    for (std::string line; std::getline(dep_file, line);) {
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string path = line.substr(0, colon);
        std::istringstream rest(line.substr(colon + 1));
        std::vector<std::string> needs;
        for (std::string dep; rest >> dep;) needs.push_back(module_name(dep));
        deps[module_name(path)] = needs;
        paths[module_name(path)] = modules_dir + "/" + path;
    }
    std::vector<std::string> order;
    for (const char* wanted : kWantedModules) {
        if (paths.count(wanted) == 0) {
            if (builtin(modules_dir, wanted)) continue;
            error = std::string(kernel.image) + " has no " + wanted +
                    " (virtio-mmio and virtio-net are needed under QEMU microvm)";
            return kernel;
        }
        add_with_dependencies(deps, wanted, order);
    }
    for (const auto& name : order) kernel.modules.push_back(paths[name]);
    return kernel;
}

void CpioWriter::entry(const std::string& name, unsigned mode, const std::string& data,
                       unsigned major, unsigned minor) {
    // newc: "070701", then 13 eight-digit hex fields, the name with its NUL, padded to 4
    // bytes, the data, padded to 4 bytes
    // (Documentation/driver-api/early-userspace/buffer-format.rst).
    char header[111];
    std::snprintf(header, sizeof header,
                  "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", m_inode++, mode, 0u,
                  0u, 1u, 0u, unsigned(data.size()), 0u, 0u, major, minor,
                  unsigned(name.size() + 1), 0u);
    m_out.append(header, 110);
    m_out.append(name);
    m_out.push_back('\0');
    m_out.append((4 - m_out.size() % 4) % 4, '\0');
    m_out.append(data);
    m_out.append((4 - m_out.size() % 4) % 4, '\0');
}

void CpioWriter::directory(const std::string& name) { entry(name, S_IFDIR | 0755, {}, 0, 0); }

void CpioWriter::file(const std::string& name, const std::string& data, unsigned mode) {
    entry(name, S_IFREG | mode, data, 0, 0);
}

void CpioWriter::char_device(const std::string& name, unsigned major, unsigned minor) {
    entry(name, S_IFCHR | 0600, {}, major, minor);
}

std::string CpioWriter::finish() {
    entry("TRAILER!!!", 0, {}, 0, 0);
    return std::move(m_out);
}

std::string write_initramfs(const std::string& path, const LinuxKernel& kernel,
                            const std::string& busybox, const std::string& server,
                            const GuestNetwork& network) {
    CpioWriter cpio;
    for (const char* dir : {"bin", "dev", "proc", "sys", "tmp", "modules"}) cpio.directory(dir);
    cpio.char_device("dev/console", 5, 1);
    cpio.char_device("dev/null", 1, 3);
    std::string busybox_bytes = read_all(busybox);
    std::string server_bytes = read_all(server);
    if (busybox_bytes.empty()) return "cannot read " + busybox + " (Debian: busybox-static)";
    if (server_bytes.empty()) return "cannot read " + server;
    if (!static_elf(busybox_bytes))
        return busybox + " is not a static ELF (Debian: install busybox-static, not busybox)";
    cpio.file("bin/busybox", busybox_bytes, 0755);
    cpio.file("http_server", server_bytes, 0755);
    std::string insmods;
    for (const auto& module : kernel.modules) {
        std::string error;
        std::string bytes = module_bytes(module, error);
        if (!error.empty() || bytes.empty()) return error.empty() ? "cannot read " + module : error;
        std::string name = module_name(module);
        cpio.file("modules/" + name + ".ko", bytes, 0644);
        insmods += "insmod /modules/" + name + ".ko || echo \"init: insmod " + name + " failed\"\n";
    }
    // /init's messages go to the console log, so a guest that never answers says why.
    std::string init = kInitScript;
    auto fill = [&](const std::string& key, const std::string& value) {
        for (size_t at; (at = init.find(key)) != std::string::npos;)
            init.replace(at, key.size(), value);
    };
    fill("@INSMODS@", insmods);
    fill("@ADDRESS@", network.address + "/" + std::to_string(network.prefix_length));
    fill("@GATEWAY@", network.gateway);
    fill("@PORT@", std::to_string(network.port));
    cpio.file("init", init, 0755);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    std::string bytes = cpio.finish();
    out.write(bytes.data(), std::streamsize(bytes.size()));
    return out ? "" : "cannot write " + path;
}

}  // namespace bench::net
