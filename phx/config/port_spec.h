// phx run's network flags turned into forwards: `-p HOST[:GUEST][/tcp|/udp]` (HOST and GUEST a
// port or a range low-high; several joined by commas, as OPS's -p), `--udp-port` (the same,
// UDP), config.json's Ports/UDPPorts ranges; and the check that no other process holds a host
// port, so a busy port is an error before any VM starts.
#pragma once

#include <string>
#include <vector>

#include "phx/config/config_file.h"
#include "vmm/net/port_forward.h"

namespace phx {

// More forwards than this are refused (each is a host socket, in slirp or in QEMU).
inline constexpr size_t kMaxForwards = 1024;

// One -p value (`flag` names it in errors: "-p 8080x: ..."); `udp` is the protocol when the
// value names none. Appends to `out`. Throws PhxError(kExitUsage) naming what is wrong.
void parse_port_spec(const std::string& flag, const std::string& text, bool udp,
                     std::vector<vmm::net::PortForward>& out);

// config.json ranges, each port forwarded to itself.
void add_port_ranges(const std::vector<PortRange>& ranges, bool udp,
                     std::vector<vmm::net::PortForward>& out);

// Refuses a host port forwarded twice and more than kMaxForwards forwards.
void check_forwards(const std::vector<vmm::net::PortForward>& forwards);

// A TAP interface name as Linux takes it (1 to 15 bytes) and safe inside QEMU's -netdev
// (letters, digits, '-', '_', '.'); `what` starts the error ("--tap x,y: ...").
void check_tap_name(const std::string& what, const std::string& name);

// Binds each host port (all addresses, as the forward will) and lets go: a port another
// process holds is PhxError(kExitUsage) "host TCP port 8080 is already in use".
void check_host_ports_free(const std::vector<vmm::net::PortForward>& forwards);

}  // namespace phx
