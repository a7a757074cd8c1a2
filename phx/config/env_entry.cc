// Validation of -e entries.
#include "phx/config/env_entry.h"

#include <string>

#include "phx/error.h"

namespace phx {

void check_env_entry(std::string_view entry) {
    auto fail = [&](const char* why) {
        throw PhxError(kExitUsage, "-e " + std::string(entry) + ": " + why);
    };
    if (entry.find('\0') != std::string_view::npos) fail("contains a NUL byte");
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) fail("expected KEY=VALUE");
    if (eq == 0) fail("expected KEY=VALUE with a non-empty KEY");
}

}  // namespace phx
