// Program validation through lib/elf, with messages a user can act on.
#include "phx/program_check.h"

#include <cerrno>
#include <cstring>
#include <system_error>

#include "lib/elf/elf.h"
#include "phx/error.h"
#include "phx/file_io.h"

namespace phx {

namespace {

std::string describe_read_error(int error) {
    switch (error) {
        case ENOENT:
            return "no such file";
        case EACCES:
            return "permission denied (phx needs to read the program)";
        case EISDIR:
            return "is a directory, not a program";
        case EINVAL:
            return "not a regular file";
    }
    return std::string("cannot be read: ") + std::strerror(error);
}

}  // namespace

std::vector<std::byte> load_program(const std::string& path) {
    std::vector<std::byte> bytes;
    try {
        bytes = read_file(path);
    } catch (const std::system_error& e) {
        throw PhxError(kExitUsage, path + ": " + describe_read_error(e.code().value()));
    }
    auto parsed = lib::elf::ElfImage::parse(bytes);
    if (parsed.is_error())
        throw PhxError(kExitUsage, path + ": " + lib::elf::describe(parsed.error()));
    if (parsed.value().is_dynamically_linked())
        throw PhxError(kExitUsage, path +
                                       ": dynamically linked programs are not supported yet; "
                                       "link it statically (e.g. -static); it asks for the "
                                       "interpreter " +
                                       std::string(*parsed.value().interpreter()));
    return bytes;
}

}  // namespace phx
