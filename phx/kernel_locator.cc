// Kernel search order (documented in README.md).
#include "phx/kernel_locator.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "phx/error.h"

namespace phx {

namespace {

std::filesystem::path executable_dir() {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path(".") : exe.parent_path();
}

}  // namespace

std::string locate_kernel(const std::string& explicit_path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!explicit_path.empty()) {
        if (!fs::is_regular_file(explicit_path, ec))
            throw PhxError(kExitUsage, "--kernel " + explicit_path + ": no such file");
        return explicit_path;
    }
    if (const char* env = std::getenv("PHX_KERNEL"); env && *env) {
        if (!fs::is_regular_file(env, ec))
            throw PhxError(kExitUsage, std::string("PHX_KERNEL=") + env + ": no such file");
        return env;
    }
    auto dir = executable_dir();
    std::vector<fs::path> candidates = {dir / "../kernel/phoenix.elf",
                                        dir / "../share/phoenix/phoenix.elf"};
    for (const auto& candidate : candidates)
        if (fs::is_regular_file(candidate, ec)) return fs::weakly_canonical(candidate).string();
    throw PhxError(kExitUsage,
                   "cannot find the Phoenix kernel (looked for ../kernel/phoenix.elf and "
                   "../share/phoenix/phoenix.elf next to phx); pass --kernel or set PHX_KERNEL");
}

}  // namespace phx
