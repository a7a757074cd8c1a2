// ELF dynamic sections (through lib/elf's validated program headers), /etc/ld.so.cache, and
// the search itself.
#include "phx/image/elf_deps.h"

#include <cstring>
#include <deque>
#include <filesystem>
#include <set>
#include <system_error>

#include "lib/elf/elf.h"
#include "phx/error.h"
#include "phx/file_io.h"

namespace phx {

namespace {

namespace fs = std::filesystem;
using lib::elf::Elf64_Phdr;

constexpr int64_t kDtNull = 0, kDtNeeded = 1, kDtStrtab = 5, kDtStrsz = 10, kDtSoname = 14,
                  kDtRpath = 15, kDtRunpath = 29;

struct Dyn {
    int64_t tag;
    uint64_t value;
};

[[noreturn]] void fail(const std::string& path, const std::string& why) {
    throw PhxError(kExitUsage, path + ": " + why);
}

std::vector<std::string> split_path_list(const std::string& list) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= list.size()) {
        size_t end = list.find(':', start);
        if (end == std::string::npos) end = list.size();
        // An empty element means the current directory to ld.so; phx has none to offer.
        if (end > start) out.push_back(list.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

// The file offset of link-time address `vaddr`, through the PT_LOAD that maps it.
std::optional<uint64_t> file_offset(const lib::elf::ElfImage& elf, uint64_t vaddr) {
    for (const Elf64_Phdr ph : elf.program_headers()) {
        if (ph.p_type != lib::elf::PT_LOAD) continue;
        if (vaddr >= ph.p_vaddr && vaddr - ph.p_vaddr < ph.p_filesz) return ph.p_offset + (vaddr - ph.p_vaddr);
    }
    return std::nullopt;
}

}  // namespace

ElfDynamicInfo read_elf_dynamic(const std::string& path) {
    std::vector<std::byte> bytes;
    try {
        bytes = read_file(path);
    } catch (const std::system_error& e) {
        fail(path, std::string("cannot read: ") + e.code().message());
    }
    auto parsed = lib::elf::ElfImage::parse(bytes);
    if (parsed.is_error()) fail(path, lib::elf::describe(parsed.error()));
    const lib::elf::ElfImage& elf = parsed.value();
    ElfDynamicInfo info;
    info.is_64bit_x86 = true;  // parse() accepts only ELF64 x86-64
    if (auto interp = elf.interpreter()) info.interpreter = std::string(*interp);
    auto dynamic = elf.find_segment(lib::elf::PT_DYNAMIC);
    if (!dynamic) return info;
    auto table = elf.file_bytes(*dynamic);
    if (!table) fail(path, "PT_DYNAMIC lies outside the file");

    std::vector<Dyn> entries;
    for (size_t at = 0; at + sizeof(Dyn) <= table->size(); at += sizeof(Dyn)) {
        Dyn d;
        std::memcpy(&d, table->data() + at, sizeof(Dyn));
        if (d.tag == kDtNull) break;
        entries.push_back(d);
    }
    uint64_t strtab = 0, strsz = 0;
    for (const Dyn& d : entries) {
        if (d.tag == kDtStrtab) strtab = d.value;
        if (d.tag == kDtStrsz) strsz = d.value;
    }
    bool wants_strings = false;
    for (const Dyn& d : entries)
        wants_strings |= d.tag == kDtNeeded || d.tag == kDtSoname || d.tag == kDtRpath || d.tag == kDtRunpath;
    if (!wants_strings) return info;
    auto strings_at = file_offset(elf, strtab);
    if (!strings_at || *strings_at > bytes.size() || strsz > bytes.size() - *strings_at)
        fail(path, "DT_STRTAB lies outside the file");
    auto string_at = [&](uint64_t offset) -> std::string {
        if (offset >= strsz) fail(path, "a dynamic-section string lies outside DT_STRTAB");
        const char* start = reinterpret_cast<const char*>(bytes.data() + *strings_at + offset);
        size_t length = strnlen(start, strsz - offset);
        if (length == strsz - offset) fail(path, "an unterminated dynamic-section string");
        return std::string(start, length);
    };
    for (const Dyn& d : entries) {
        switch (d.tag) {
            case kDtNeeded:
                info.needed.push_back(string_at(d.value));
                break;
            case kDtSoname:
                info.soname = string_at(d.value);
                break;
            case kDtRpath:
                for (auto& dir : split_path_list(string_at(d.value))) info.rpath.push_back(dir);
                break;
            case kDtRunpath:
                for (auto& dir : split_path_list(string_at(d.value))) info.runpath.push_back(dir);
                break;
        }
    }
    return info;
}

std::map<std::string, std::string> read_ld_so_cache(const std::string& path) {
    constexpr char kMagic[] = "glibc-ld.so.cache1.1";
    constexpr size_t kMagicSize = sizeof(kMagic) - 1;
    constexpr size_t kHeaderSize = 48;  // magic, nlibs, len_strings, flags, extension, unused
    constexpr size_t kEntrySize = 24;   // flags, key, value, osversion, hwcap
    constexpr int32_t kElfLibc6 = 0x0003, kX8664Lib64 = 0x0300;
    std::map<std::string, std::string> out;
    std::vector<std::byte> bytes;
    try {
        bytes = read_file(path);
    } catch (const std::system_error&) {
        return out;
    }
    const char* data = reinterpret_cast<const char*>(bytes.data());
    // The new format alone (glibc >= 2.32), or after the old "ld.so-1.7.0" table.
    size_t base = std::string_view(data, bytes.size()).find(std::string_view(kMagic, kMagicSize));
    if (base == std::string_view::npos || bytes.size() - base < kHeaderSize) return out;
    uint32_t count;
    std::memcpy(&count, data + base + kMagicSize, 4);
    if (count > (bytes.size() - base - kHeaderSize) / kEntrySize) return out;
    auto string_at = [&](uint32_t offset) -> std::optional<std::string> {
        if (offset >= bytes.size() - base) return std::nullopt;
        const char* start = data + base + offset;
        size_t length = strnlen(start, bytes.size() - base - offset);
        if (length == bytes.size() - base - offset) return std::nullopt;
        return std::string(start, length);
    };
    for (uint32_t i = 0; i < count; ++i) {
        const char* entry = data + base + kHeaderSize + size_t(i) * kEntrySize;
        int32_t flags;
        uint32_t key, value;
        std::memcpy(&flags, entry, 4);
        std::memcpy(&key, entry + 4, 4);
        std::memcpy(&value, entry + 8, 4);
        if ((flags & 0xff) != kElfLibc6 || (flags & 0xff00) != kX8664Lib64) continue;
        auto soname = string_at(key);
        auto file = string_at(value);
        if (soname && file) out.emplace(*soname, *file);  // the first entry wins, as in ld.so
    }
    return out;
}

Dependencies resolve_dependencies(const std::string& program, const DependencyOptions& options) {
    struct Object {
        std::string path;
        ElfDynamicInfo info;
        int loader = -1;  // index of the object that loaded it (for DT_RPATH inheritance)
    };
    auto cache = read_ld_so_cache(options.sysroot + options.ld_so_cache);
    const std::vector<std::string> library_path = split_path_list(options.ld_library_path);
    const std::vector<std::string> default_dirs = {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
                                                   "/lib64", "/usr/lib64", "/lib", "/usr/lib"};

    auto expand = [](std::string dir, const std::string& origin) {
        for (const char* token : {"$ORIGIN", "${ORIGIN}"}) {
            for (size_t at; (at = dir.find(token)) != std::string::npos;) dir.replace(at, std::strlen(token), origin);
        }
        for (const char* token : {"$LIB", "${LIB}"}) {
            for (size_t at; (at = dir.find(token)) != std::string::npos;) dir.replace(at, std::strlen(token), "lib64");
        }
        for (const char* token : {"$PLATFORM", "${PLATFORM}"}) {
            for (size_t at; (at = dir.find(token)) != std::string::npos;) dir.replace(at, std::strlen(token), "x86_64");
        }
        return dir;
    };
    auto origin_of = [](const std::string& path) {
        return fs::absolute(path).parent_path().string();
    };
    auto usable = [&](const std::string& candidate) -> bool {
        std::error_code ec;
        if (!fs::is_regular_file(candidate, ec)) return false;
        // ld.so skips libraries of another class or machine and keeps searching.
        try {
            return read_elf_dynamic(candidate).is_64bit_x86;
        } catch (const PhxError&) {
            return false;
        }
    };

    std::vector<Object> objects;
    objects.push_back({program, read_elf_dynamic(program), -1});
    Dependencies deps;
    if (objects[0].info.interpreter) {
        std::string interp = options.sysroot + *objects[0].info.interpreter;
        std::error_code ec;
        if (!fs::is_regular_file(interp, ec))
            fail(program, "its interpreter " + *objects[0].info.interpreter + " does not exist on this machine");
        deps.interpreter = interp;
    }
    std::set<std::string> seen_names;  // sonames and paths already loaded, as ld.so matches them
    std::set<std::string> seen_paths;
    if (deps.interpreter) {
        seen_paths.insert(fs::weakly_canonical(*deps.interpreter).string());
        seen_names.insert(fs::path(*deps.interpreter).filename().string());
        auto interp = read_elf_dynamic(*deps.interpreter);
        if (interp.soname) seen_names.insert(*interp.soname);
        // musl's dynamic linker is its libc: a program's DT_NEEDED "libc.so" is the loader.
        if (fs::path(*deps.interpreter).filename().string().rfind("ld-musl-", 0) == 0) seen_names.insert("libc.so");
    }

    for (size_t index = 0; index < objects.size(); ++index) {
        const std::vector<std::string> needed = objects[index].info.needed;
        for (const std::string& name : needed) {
            if (seen_names.count(name)) continue;
            std::string found;
            if (name.find('/') != std::string::npos) {
                std::string candidate = name[0] == '/' ? options.sysroot + name : name;
                if (usable(candidate)) found = candidate;
            } else {
                std::vector<std::string> dirs;
                const Object& requester = objects[index];
                if (requester.info.runpath.empty()) {
                    // DT_RPATH of the requester, then of each object that loaded it.
                    for (int at = int(index); at >= 0; at = objects[size_t(at)].loader) {
                        if (!objects[size_t(at)].info.runpath.empty()) continue;
                        for (const auto& dir : objects[size_t(at)].info.rpath)
                            dirs.push_back(expand(dir, origin_of(objects[size_t(at)].path)));
                    }
                }
                for (const auto& dir : library_path) dirs.push_back(expand(dir, origin_of(requester.path)));
                for (const auto& dir : requester.info.runpath) dirs.push_back(expand(dir, origin_of(requester.path)));
                for (const auto& dir : dirs) {
                    std::string candidate = (dir[0] == '/' ? options.sysroot : "") + dir + "/" + name;
                    if (usable(candidate)) {
                        found = candidate;
                        break;
                    }
                }
                if (found.empty()) {
                    if (auto hit = cache.find(name); hit != cache.end() && usable(options.sysroot + hit->second))
                        found = options.sysroot + hit->second;
                }
                for (size_t d = 0; found.empty() && d < default_dirs.size(); ++d) {
                    std::string candidate = options.sysroot + default_dirs[d] + "/" + name;
                    if (usable(candidate)) found = candidate;
                }
            }
            if (found.empty())
                fail(objects[index].path, "needs " + name + ", which is not found (searched " +
                                              std::string(objects[index].info.runpath.empty() ? "DT_RPATH, " : "") +
                                              "LD_LIBRARY_PATH, " +
                                              (objects[index].info.runpath.empty() ? "" : "DT_RUNPATH, ") +
                                              "/etc/ld.so.cache and the default directories)");
            seen_names.insert(name);
            if (name.find('/') == std::string::npos) deps.by_name.emplace_back(name, found);
            std::string canonical = fs::weakly_canonical(found).string();
            if (!seen_paths.insert(canonical).second) continue;  // same file under another name
            objects.push_back({found, read_elf_dynamic(found), int(index)});
            if (objects.back().info.soname) seen_names.insert(*objects.back().info.soname);
            deps.libraries.push_back(found);
        }
    }
    return deps;
}

}  // namespace phx
