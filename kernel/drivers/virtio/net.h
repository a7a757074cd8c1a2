// The virtio network device (virtio 1.2, 5.1): one receive and one transmit queue, a MAC from
// the device, checksum offload both ways when offered, mergeable receive buffers. Received
// frames go to a callback from the device's interrupt (or, without one, from a polling timer).
#pragma once

#include <cstdint>
#include <span>

#include "lib/net/stack.h"

namespace kernel::drivers::virtio {

class NetReceiver {
public:
    // One frame (Ethernet header on, no virtio header); borrowed for the call.
    virtual void frame_received(std::span<const uint8_t> frame, const lib::net::RxMeta& meta) = 0;
    // After the frames of one interrupt (a batch): the time to flush what they caused.
    virtual void batch_done() = 0;

protected:
    ~NetReceiver() = default;
};

// Claims the first virtio-net device and brings it up, delivering to `receiver`. nullptr when
// there is none or it failed (logged).
lib::net::NetDevice* init_net(NetReceiver& receiver);

}  // namespace kernel::drivers::virtio
