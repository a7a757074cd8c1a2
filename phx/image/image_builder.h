// From a program and its settings to a bootable Phoenix disk image (docs/image.md): the
// kernel, the program, its interpreter and libraries as the dynamic loader finds them, the
// files and directories the config names, /etc basics, and the manifest.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace phx {

inline constexpr const char* kImageKernelPath = "/boot/kernel";
inline constexpr const char* kImageManifestPath = "/etc/phoenix/manifest";

struct ImageSpec {
    std::string program;                   // host path of the ELF
    std::string kernel;                    // host path of the Phoenix kernel ELF
    std::vector<std::string> args;         // argv[1..]
    std::vector<std::string> env;          // "KEY=VALUE"
    std::vector<std::string> debug_flags;  // OPS Debugflags
    // OPS semantics: a relative path lands at the same path under /, an absolute one at itself.
    std::vector<std::string> files;
    std::vector<std::string> dirs;
    std::vector<std::pair<std::string, std::string>> map_dirs;  // host path or glob -> image dir
    std::vector<std::string> name_servers;                      // default 8.8.8.8
    // Manifest Option records for the kernel (docs/manifest.md, "Options").
    std::vector<std::pair<std::string, std::string>> kernel_options;
    uint64_t size_bytes = 0;                                    // 0: sized to fit
    uint64_t timestamp = 0;                                     // image_timestamp()
};

// Images are reproducible: without SOURCE_DATE_EPOCH every time in them is this one
// (2000-01-01T00:00:00Z; libext2fs reads 0 as "now").
inline constexpr uint64_t kDefaultImageTimestamp = 946684800;

// The path the program has inside the VM: "/<file name>" (argv[0], /proc/self/exe).
std::string image_program_path(const std::string& program);

// Builds the image at out_path (through a temporary file: on any error nothing is left).
// Throws PhxError(kExitUsage) for bad input: a missing or non-ELF program, an unresolvable
// library, a missing Files/Dirs entry, paths given twice with different content.
void build_image(const ImageSpec& spec, const std::string& out_path);

// SOURCE_DATE_EPOCH when set (seconds, 1..2^32-1), else kDefaultImageTimestamp.
uint64_t image_timestamp();

}  // namespace phx
