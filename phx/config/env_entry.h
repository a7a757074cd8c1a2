// Environment entries given with -e: "KEY=VALUE", as the program will see them in envp.
#pragma once

#include <string_view>

namespace phx {

// Throws PhxError(kExitUsage) unless `entry` is KEY=VALUE with a non-empty KEY (the first '='
// ends the key, so the key never contains one; the value may) and no NUL byte anywhere.
void check_env_entry(std::string_view entry);

}  // namespace phx
