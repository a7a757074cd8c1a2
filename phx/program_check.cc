// Program validation through lib/elf, with messages a user can act on.
#include "phx/program_check.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "lib/elf/elf.h"
#include "phx/error.h"

namespace phx {

std::vector<std::byte> load_program(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        throw PhxError(kExitUsage, path + ": no such file");
    if (std::filesystem::is_directory(path, ec))
        throw PhxError(kExitUsage, path + ": is a directory, not a program");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw PhxError(kExitUsage, path + ": cannot be read");
    std::vector<char> raw{std::istreambuf_iterator<char>(in), {}};
    std::vector<std::byte> bytes(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) bytes[i] = std::byte(raw[i]);

    auto parsed = lib::elf::ElfImage::parse(bytes);
    if (parsed.is_error())
        throw PhxError(kExitUsage, path + ": " + lib::elf::describe(parsed.error()));
    if (parsed.value().is_dynamically_linked())
        throw PhxError(kExitUsage,
                       path + ": dynamically linked programs are not supported yet (it asks for "
                              "the interpreter " +
                           std::string(*parsed.value().interpreter()) +
                           "); link it statically, e.g. with -static");
    return bytes;
}

}  // namespace phx
