// How a socket tells its owner (the kernel's socket file) that its readiness may have changed,
// in Linux's POLL* bit values so the kernel passes them straight to poll and epoll.
#pragma once

#include <cstdint>

namespace lib::net {

namespace events {
inline constexpr uint32_t kIn = 0x001, kPri = 0x002, kOut = 0x004, kErr = 0x008, kHup = 0x010,
                          kRdNorm = 0x040, kWrNorm = 0x100, kRdHup = 0x2000;
inline constexpr uint32_t kReadable = kIn | kRdNorm;
inline constexpr uint32_t kWritable = kOut | kWrNorm;
}  // namespace events

class SocketObserver {
public:
    // `events`: what may have become true (data or a connection to accept: kReadable; send
    // space or a connect finished: kWritable; an error: kErr; the peer's FIN: kRdHup). Called
    // from inside the stack (frame input, timers): it must not call back into the stack.
    virtual void socket_changed(uint32_t events) = 0;

protected:
    ~SocketObserver() = default;
};

}  // namespace lib::net
