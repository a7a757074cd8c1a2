// How phx reports failure: throw PhxError at the point of failure, print it once at the outer
// edge (main.cc: "phx: what and where") and exit with its status.
#pragma once

#include <stdexcept>
#include <string>

namespace phx {

// Exit statuses of phx itself (docs/boot-protocol.md, "Runner exit status").
inline constexpr int kExitUsage = 2;       // bad input: program, flag, config
inline constexpr int kExitVmFailed = 125;  // the VM failed: kernel panic, hypervisor error

class PhxError : public std::runtime_error {
public:
    PhxError(int status, const std::string& message)
        : std::runtime_error(message), m_status(status) {}
    int status() const { return m_status; }

private:
    int m_status;
};

}  // namespace phx
