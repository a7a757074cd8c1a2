// Attaching and detaching the NIC a backend delivers to.
#include "vmm/net/backend.h"

#include <sys/random.h>

namespace vmm::net {

MacAddress random_mac() {
    MacAddress mac = {0x52, 0x54, 0x00, 0, 0, 0};
    uint8_t random[3] = {0x12, 0x34, 0x56};  // QEMU's default, should getrandom ever fail
    (void)!getrandom(random, sizeof(random), 0);
    mac[3] = random[0];
    mac[4] = random[1];
    mac[5] = random[2];
    return mac;
}

void NetBackend::attach(FrameSink* sink) {
    std::lock_guard lock(m_lock);
    m_sink = sink;
}

void NetBackend::deliver(std::span<const std::byte> frame) {
    std::lock_guard lock(m_lock);
    if (m_sink) m_sink->deliver_frame(frame);
}

}  // namespace vmm::net
