// The host side of the VM's network: a backend carries Ethernet frames between the VM's NIC
// (virtio-net) and a network (libslirp's user-mode stack, or a TAP device). A backend belongs
// to the run, not to one VM: the supervisor builds a fresh VM on every guest reset and attaches
// the same backend (with its bound host ports) to each new VM's NIC in turn.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>

namespace vmm::net {

// The largest frame either direction carries: the NIC's 1500-byte MTU, the Ethernet header and
// one VLAN tag. The NIC offers no segmentation offload, so nothing larger is legitimate.
inline constexpr size_t kMaxFrameBytes = 1500 + 14 + 4;

using MacAddress = std::array<uint8_t, 6>;

// A locally administered unicast address in QEMU's 52:54:00 block with three random bytes:
// drawn once per run, so that every VM of the run (reboots included) has the same one.
MacAddress random_mac();

// Where a backend delivers frames from the network: the NIC of the VM that currently runs.
class FrameSink {
public:
    virtual ~FrameSink() = default;
    // Called on the backend's own thread. The frame is only borrowed for the call.
    virtual void deliver_frame(std::span<const std::byte> frame) = 0;
};

class NetBackend {
public:
    virtual ~NetBackend() = default;

    // A frame from the guest, to the network. Called on the vCPU thread with the NIC's
    // transport locked: it must not block for long and must not call back into the NIC.
    virtual void send_frame(std::span<const std::byte> frame) = 0;

    // Frames from the network go to `sink` from now on; nullptr drops them. Once attach()
    // returns, the previous sink is not running and never will be, so its VM may go away
    // (frames that were still on their way to it are dropped with it).
    void attach(FrameSink* sink);

protected:
    // Hands `frame` to the attached sink, if any (for the backend's thread).
    void deliver(std::span<const std::byte> frame);

private:
    std::mutex m_lock;
    FrameSink* m_sink = nullptr;
};

}  // namespace vmm::net
