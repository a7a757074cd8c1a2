// The virtio entropy device (virtio 1.2, 5.4): one request queue of device-writable buffers
// that the device fills with random bytes. It seeds the kernel's CSPRNG at boot.
#pragma once

#include "kernel/random/random.h"

namespace kernel::drivers::virtio {

// Claims the first virtio-rng device and brings it up. nullptr when there is none or it
// failed (logged); the source's read() then gives what the device returns within a bounded
// time, polling the used ring.
random::EntropySource* init_rng();

}  // namespace kernel::drivers::virtio
