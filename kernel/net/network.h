// The kernel's network: one lib::net stack (loopback plus the first virtio-net device) with
// its TCP and UDP layers, driven by the device's interrupt and one kernel timer. Sockets
// (kernel/net/*_socket.*) reach the layers here and call after_operation() when done.
#pragma once

#include <cstdint>
#include <span>

#include "lib/manifest/manifest.h"
#include "lib/net/stack.h"
#include "lib/net/tcp.h"
#include "lib/net/udp.h"

namespace kernel::net {

// Brings the stack up: loopback always; the first virtio-net device configured from the
// manifest's options (ipaddr, netmask, gateway, nameservers: a static address) or by DHCP.
// With DHCP the program starts once an address is bound or after exec_wait_for_ip4_secs
// (default 2 s), whichever comes first. Call once, before the program starts.
void init_network(const lib::manifest::Manifest& manifest);

lib::net::Stack& stack();
lib::net::TcpLayer& tcp();
lib::net::UdpLayer& udp();
// The interface index of the first Ethernet device, -1 when there is none.
int ethernet_interface();

// After a socket operation (or frame input): delivers what loopback queued and re-arms the
// stack's timer for its next deadline.
void after_operation();

}  // namespace kernel::net
