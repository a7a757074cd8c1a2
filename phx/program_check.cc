// Program validation through lib/elf, with messages a user can act on.
#include "phx/program_check.h"

#include <fcntl.h>
#include <unistd.h>

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

bool is_disk_image(const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    unsigned char mbr[512];
    ssize_t n = pread(fd, mbr, sizeof(mbr), 0);
    close(fd);
    return n == 512 && mbr[510] == 0x55 && mbr[511] == 0xaa && mbr[446 + 4] == 0x83 &&
           mbr[446 + 8] == 0x00 && mbr[446 + 9] == 0x08 && mbr[446 + 10] == 0 && mbr[446 + 11] == 0;
}

ProgramFile load_program(const std::string& path) {
    std::vector<std::byte> bytes;
    try {
        bytes = read_file(path);
    } catch (const std::system_error& e) {
        throw PhxError(kExitUsage, path + ": " + describe_read_error(e.code().value()));
    }
    auto parsed = lib::elf::ElfImage::parse(bytes);
    if (parsed.is_error())
        throw PhxError(kExitUsage, path + ": " + lib::elf::describe(parsed.error()));
    bool dynamic = parsed.value().is_dynamically_linked();
    return {std::move(bytes), dynamic};
}

}  // namespace phx
