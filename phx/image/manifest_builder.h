// What phx tells the kernel about the program (docs/manifest.md), turned into manifest bytes.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace phx {

struct Launch {
    std::string program_path;              // the program's path inside the VM, "/<file name>"
    std::vector<std::string> args;         // argv[1..]
    std::vector<std::string> env;          // "KEY=VALUE", checked by check_env_entry()
    std::vector<std::string> debug_flags;  // OPS Debugflags names ("trace", "fault")
    std::span<const std::byte> image;      // the program's ELF bytes; empty: it is in the image
    // Kernel settings as Option records "key=value" (docs/manifest.md: ipaddr, netmask,
    // gateway, nameservers, exec_wait_for_ip4_secs).
    std::vector<std::pair<std::string, std::string>> options;
};

// The manifest for `launch`. Throws PhxError(kExitUsage) when a text field holds a NUL byte
// or the program is too large for a manifest record.
std::vector<std::byte> build_manifest(const Launch& launch);

}  // namespace phx
