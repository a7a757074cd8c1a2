// One host port forwarded to a guest port (TCP or UDP), as `phx run -p` and config.json's
// RunConfig.Ports/UDPPorts ask; and which network the VM's NIC is on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vmm::net {

struct PortForward {
    bool udp = false;
    uint16_t host_port = 0;
    uint16_t guest_port = 0;
    bool operator==(const PortForward&) const = default;
};

enum class NetMode : uint8_t {
    None,   // no NIC at all
    Slirp,  // user-mode networking (libslirp): 10.0.2.0/24, host port forwards
    Tap,    // a TAP device the user created: frames in and out of the host's network stack
};

struct NetConfig {
    NetMode mode = NetMode::None;
    std::vector<PortForward> forwards;  // Slirp only
    std::string tap_name;               // Tap only
};

}  // namespace vmm::net
