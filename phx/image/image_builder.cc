// Assembles the ImageTree and hands it to the disk writer.
#include "phx/image/image_builder.h"

#include <glob.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "phx/error.h"
#include "phx/image/disk_image.h"
#include "phx/image/elf_deps.h"
#include "phx/image/ld_so_cache.h"
#include "phx/image/manifest_builder.h"

namespace phx {

namespace {

namespace fs = std::filesystem;

std::vector<std::byte> text_bytes(const std::string& text) {
    std::vector<std::byte> bytes(text.size());
    for (size_t i = 0; i < text.size(); ++i) bytes[i] = std::byte(text[i]);
    return bytes;
}

// OPS places a relative host path at the same relative path under the image root.
std::string image_path_for(const std::string& host_path) {
    return host_path[0] == '/' ? host_path : "/" + host_path;
}

std::string ld_library_path(const std::vector<std::string>& env) {
    for (const auto& entry : env)
        if (entry.rfind("LD_LIBRARY_PATH=", 0) == 0) return entry.substr(16);
    return "";
}

void add_etc(ImageTree& tree, const ImageSpec& spec) {
    std::string resolv;
    for (const auto& server : spec.name_servers) resolv += "nameserver " + server + "\n";
    if (resolv.empty()) resolv = "nameserver 8.8.8.8\n";
    // A program's own Files win over the defaults.
    auto add_default = [&](const std::string& path, const std::string& text) {
        if (!tree.contains(path)) tree.add_bytes(path, text_bytes(text));
    };
    add_default("/etc/resolv.conf", resolv);
    add_default("/etc/hosts", "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n");
    add_default("/etc/passwd", "root:x:0:0:root:/:/sbin/nologin\n");
    add_default("/etc/group", "root:x:0:\n");
}

// glibc's ld.so reads /etc/ld.so.cache before searching the default directories: with one
// naming every library phx found by name, each one costs the guest a single open. Only for
// glibc's loader (musl's ignores the file); a program's own /etc/ld.so.cache wins.
void add_ld_so_cache(ImageTree& tree, const Dependencies& deps,
                     const std::map<std::string, std::string>& image_paths) {
    if (!deps.interpreter) return;
    if (fs::path(*deps.interpreter).filename().string().rfind("ld-linux", 0) != 0) return;
    if (tree.contains("/etc/ld.so.cache")) return;
    std::vector<LdCacheEntry> entries;
    for (const auto& [name, host_path] : deps.by_name)
        if (auto found = image_paths.find(host_path); found != image_paths.end())
            entries.push_back({name, found->second});
    if (!entries.empty()) tree.add_bytes("/etc/ld.so.cache", build_ld_so_cache(std::move(entries)));
}

}  // namespace

std::string image_program_path(const std::string& program) {
    return "/" + fs::path(program).filename().string();
}

uint64_t image_timestamp() {
    const char* epoch = std::getenv("SOURCE_DATE_EPOCH");
    if (!epoch || !*epoch) return kDefaultImageTimestamp;
    char* end = nullptr;
    unsigned long long value = std::strtoull(epoch, &end, 10);
    if (*end != '\0' || value == 0 || value > UINT32_MAX)
        throw PhxError(kExitUsage, "SOURCE_DATE_EPOCH='" + std::string(epoch) +
                                       "' is not a time between 1970 and 2106 in seconds");
    return value;
}

void build_image(const ImageSpec& spec, const std::string& out_path) {
    ImageTree tree;
    tree.add_file(kImageKernelPath, spec.kernel);

    // The program, then everything the dynamic loader will open at startup.
    DependencyOptions options;
    options.ld_library_path = ld_library_path(spec.env);
    Dependencies deps = resolve_dependencies(spec.program, options);
    std::string program_path = image_program_path(spec.program);
    tree.add_file(program_path, spec.program);
    if (deps.interpreter) tree.add_host_path(*deps.interpreter);
    std::map<std::string, std::string> image_paths;  // host path -> the final file's image path
    for (const auto& library : deps.libraries) {
        if (library[0] == '/') {
            image_paths[library] = tree.add_host_path(library);
        } else {
            tree.add_file(image_path_for(library), library);  // a relative DT_NEEDED path
        }
    }

    for (const auto& file : spec.files) tree.add_file(image_path_for(file), file);
    for (const auto& dir : spec.dirs) tree.add_host_tree(dir, image_path_for(dir));
    for (const auto& [pattern, destination] : spec.map_dirs) {
        glob_t matches{};
        int result = glob(pattern.c_str(), GLOB_NOSORT, nullptr, &matches);
        if (result != 0 && result != GLOB_NOMATCH) throw PhxError(kExitUsage, "MapDirs " + pattern + ": cannot expand");
        std::vector<std::string> paths(matches.gl_pathv, matches.gl_pathv + matches.gl_pathc);
        globfree(&matches);
        if (paths.empty()) throw PhxError(kExitUsage, "MapDirs " + pattern + ": matches nothing");
        std::sort(paths.begin(), paths.end());
        for (const auto& path : paths) {
            std::string inside = destination + "/" + fs::path(path).filename().string();
            if (fs::is_directory(path))
                tree.add_host_tree(path, inside);
            else
                tree.add_file(inside, path);
        }
    }
    add_etc(tree, spec);
    add_ld_so_cache(tree, deps, image_paths);

    Launch launch;
    launch.program_path = program_path;
    launch.args = spec.args;
    launch.env = spec.env;
    launch.debug_flags = spec.debug_flags;
    launch.options = spec.kernel_options;
    tree.add_bytes(kImageManifestPath, build_manifest(launch));

    ImageOptions image;
    image.size_bytes = spec.size_bytes;
    image.timestamp = spec.timestamp;
    write_disk_image(tree, out_path, image);
}

}  // namespace phx
