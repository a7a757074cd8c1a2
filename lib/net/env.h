// What the stack gets from its host (the kernel, or a test): time and randomness. lib/net
// keeps no global state and never reads a clock or an entropy source of its own.
#pragma once

#include <cstdint>

namespace lib::net {

class NetEnv {
public:
    // Monotonic nanoseconds.
    virtual uint64_t now_ns() = 0;
    // Unpredictable bits (the kernel's CSPRNG): initial sequence numbers (RFC 6528), ephemeral
    // ports, DHCP transaction IDs, IPv4 identification.
    virtual uint64_t random_u64() = 0;

protected:
    ~NetEnv() = default;
};

inline constexpr uint64_t kNoDeadline = ~uint64_t{0};

}  // namespace lib::net
