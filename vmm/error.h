// How the VMM reports failure: a category phx maps to its exit status, and one line saying
// what went wrong (with the errno text when a system call failed). No exceptions in vmm/.
// Error is trivially copyable (a fixed buffer) so that it fits lib::Result.
#pragma once

#include <string>
#include <string_view>

#include "lib/base/result.h"

namespace vmm {

enum class ErrorKind : uint8_t {
    Usage,     // the request cannot work on this host or with these inputs (phx exits 2)
    VmFailed,  // the hypervisor or the guest failed while running (phx exits 125)
};

struct Error {
    ErrorKind kind = ErrorKind::VmFailed;
    char text[256] = {};

    Error() = default;
    Error(ErrorKind k, std::string_view message);
    std::string_view message() const { return text; }
};

template <typename T>
using Expected = lib::Result<T, Error>;
using ExpectedVoid = lib::Result<void, Error>;

// "what: strerror(errno)" for the current errno.
Error system_error(ErrorKind kind, std::string_view what);
inline Error usage_error(std::string_view message) { return {ErrorKind::Usage, message}; }
inline Error vm_error(std::string_view message) { return {ErrorKind::VmFailed, message}; }

}  // namespace vmm
