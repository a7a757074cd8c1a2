// A TAP device (Linux TUN/TAP, IFF_TAP | IFF_NO_PI): the VM's frames go straight into the host's
// network stack through an interface the user created beforehand and configures as they like
// (`ip tuntap add phx0 mode tap user $USER`, then an address or a bridge). A reader thread
// delivers the frames the host sends to the interface.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "vmm/error.h"
#include "vmm/net/backend.h"

namespace vmm::net {

class TapBackend final : public NetBackend {
public:
    // Attaches to the existing TAP interface `name`; a Usage error saying what to do when it
    // does not exist or cannot be opened.
    static Expected<std::unique_ptr<TapBackend>> create(const std::string& name);
    ~TapBackend() override;

    void send_frame(std::span<const std::byte> frame) override;

private:
    TapBackend() = default;
    void read_loop();

    int m_fd = -1;
    int m_wake = -1;  // eventfd: stop
    std::thread m_thread;
};

}  // namespace vmm::net
