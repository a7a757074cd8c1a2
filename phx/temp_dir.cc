// mkdtemp-based implementation of TempDir.
#include "phx/temp_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "phx/error.h"

namespace phx {

TempDir::TempDir() {
    const char* base = getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/phx-run-XXXXXX";
    if (!mkdtemp(pattern.data()))
        throw PhxError(kExitVmFailed,
                       "cannot create a temporary directory " + pattern + ": " + strerror(errno));
    m_path = pattern;
}

TempDir::~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
}

}  // namespace phx
