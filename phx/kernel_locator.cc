// Kernel search order (documented in README.md and `phx run --help`).
#include "phx/kernel_locator.h"

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "phx/error.h"
#include "phx/log.h"

namespace phx {

namespace {

namespace fs = std::filesystem;

fs::path executable_dir() {
    std::error_code ec;
    auto exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path(".") : exe.parent_path();
}

std::string checked(const std::string& path, const std::string& origin) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
        throw PhxError(kExitUsage, origin + " " + path + ": no such kernel file");
    log_verbose("kernel: " + path + " (" + origin + ")");
    return path;
}

}  // namespace

std::string locate_kernel(const std::string& explicit_path) {
    if (!explicit_path.empty()) return checked(explicit_path, "--kernel");
    if (const char* env = std::getenv("PHX_KERNEL"); env && *env)
        return checked(env, "$PHX_KERNEL");
    auto dir = executable_dir();
    std::vector<fs::path> candidates = {dir / "../kernel/phoenix.elf",          // build tree
                                        dir / "../share/phoenix/phoenix.elf"};  // installed
    for (const auto& candidate : candidates) {
        std::error_code ec;
        if (!fs::is_regular_file(candidate, ec)) continue;
        std::string path = fs::weakly_canonical(candidate, ec).string();
        log_verbose("kernel: " + path);
        return path;
    }
    throw PhxError(kExitVmFailed, "cannot find the Phoenix kernel (looked for " +
                                      candidates[0].lexically_normal().string() + " and " +
                                      candidates[1].lexically_normal().string() +
                                      "); pass --kernel PATH or set PHX_KERNEL");
}

}  // namespace phx
