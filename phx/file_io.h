// Whole-file reads and writes with the OS error kept: failures throw std::system_error holding
// errno, and each caller decides what the failure means for the user.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace phx {

// The file's bytes. A directory or other non-regular file fails with EISDIR / EINVAL.
std::vector<std::byte> read_file(const std::string& path);
// Creates `path` (mode 0600, must not exist) holding `bytes`.
void write_file(const std::string& path, std::span<const std::byte> bytes);

}  // namespace phx
