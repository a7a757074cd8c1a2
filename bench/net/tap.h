// bench/net's TAP devices: one per guest subject, made persistent so QEMU and phx can attach
// by name, with the host's end of a /24 on it, and removed again by the destructor.
#pragma once

#include <cstdint>
#include <string>

namespace bench::net {

// A /24 of 192.168.X.0: the host is .1 on the TAP device, the guest .2.
struct Subnet {
    int third_octet = 0;
    std::string host() const { return "192.168." + std::to_string(third_octet) + ".1"; }
    std::string guest() const { return "192.168." + std::to_string(third_octet) + ".2"; }
    static std::string netmask() { return "255.255.255.0"; }
};

// The first 192.168.X.0/24 (X from `from`) that no host interface has an address in, or 0.
int free_subnet(int from);

// Removes every TapDevice that exists now; async-signal-safe (for a benchmark that is
// interrupted).
void remove_taps();

class TapDevice {
public:
    TapDevice() = default;
    ~TapDevice();
    TapDevice(const TapDevice&) = delete;
    TapDevice& operator=(const TapDevice&) = delete;
    TapDevice(TapDevice&& other) noexcept;
    TapDevice& operator=(TapDevice&& other) noexcept;

    // Creates NAME (removing a stale one of that name first), puts subnet.host()/24 on it and
    // brings it up. On failure: "" and `error` says what failed; `denied` when for lack of
    // privileges (no CAP_NET_ADMIN, no /dev/net/tun).
    static TapDevice create(const std::string& name, Subnet subnet, std::string& error,
                            bool& denied);

    const std::string& name() const { return m_name; }
    Subnet subnet() const { return m_subnet; }
    bool valid() const { return !m_name.empty(); }

private:
    void remove();

    std::string m_name;
    Subnet m_subnet;
};

}  // namespace bench::net
