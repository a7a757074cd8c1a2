// What a dynamically linked program needs at run time, found the way glibc's ld.so finds it:
// PT_INTERP, then every DT_NEEDED of the program and (transitively) of its libraries, searched
// in DT_RPATH (when there is no DT_RUNPATH; the requester's and, as ld.so does, its loaders'),
// LD_LIBRARY_PATH, DT_RUNPATH (the requester's only), /etc/ld.so.cache, then the default
// directories. $ORIGIN, $LIB and $PLATFORM expand as ld.so expands them.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace phx {

// The dynamic-section facts of one ELF file.
struct ElfDynamicInfo {
    std::optional<std::string> interpreter;  // PT_INTERP
    std::vector<std::string> needed;         // DT_NEEDED, in order
    std::vector<std::string> rpath;          // DT_RPATH, split at ':'
    std::vector<std::string> runpath;        // DT_RUNPATH, split at ':'
    std::optional<std::string> soname;
    bool is_64bit_x86 = false;
};

// Reads `path`'s program headers and dynamic section. Throws PhxError(kExitUsage) naming the
// file when it is not a readable ELF file or its dynamic section is malformed.
ElfDynamicInfo read_elf_dynamic(const std::string& path);

// The sonames /etc/ld.so.cache maps to x86-64 libraries (glibc's "glibc-ld.so.cache1.1"
// format); empty when the file is missing or in a format this does not know.
std::map<std::string, std::string> read_ld_so_cache(const std::string& path = "/etc/ld.so.cache");

struct Dependencies {
    std::optional<std::string> interpreter;  // the host path of PT_INTERP, as the program names it
    std::vector<std::string> libraries;      // host paths as found (not canonicalized), in BFS order
    // Each DT_NEEDED name without a '/' and the host path it was found at (one of `libraries`).
    std::vector<std::pair<std::string, std::string>> by_name;
};

struct DependencyOptions {
    std::string ld_library_path;  // from the program's Env, as the dynamic loader would see it
    std::string ld_so_cache = "/etc/ld.so.cache";
    std::string sysroot;          // prefix for every absolute search path (tests); "" for /
};

// Every library the program loads at startup. Throws PhxError(kExitUsage) naming the library
// and the object that needs it when one cannot be found, or naming a file that is not a
// 64-bit x86 ELF.
Dependencies resolve_dependencies(const std::string& program, const DependencyOptions& options);

}  // namespace phx
