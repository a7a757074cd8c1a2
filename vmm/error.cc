#include "vmm/error.h"

#include <cerrno>
#include <cstring>

namespace vmm {

Error::Error(ErrorKind k, std::string_view message) : kind(k) {
    size_t n = message.size() < sizeof(text) - 1 ? message.size() : sizeof(text) - 1;
    std::memcpy(text, message.data(), n);
    text[n] = '\0';
}

Error system_error(ErrorKind kind, std::string_view what) {
    std::string line(what);
    line += ": ";
    line += std::strerror(errno);
    return {kind, line};
}

}  // namespace vmm
