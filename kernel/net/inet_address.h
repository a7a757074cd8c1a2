// struct sockaddr_in <-> lib::net::Endpoint.
#pragma once

#include "kernel/net/socket.h"
#include "lib/net/address.h"

namespace kernel::net {

// EINVAL when shorter than sockaddr_in (16 bytes); EAFNOSUPPORT for another family, except
// that AF_UNSPEC is allowed where `unspec_ok` (connect() dissolving a UDP association) and
// gives the any address.
lib::Result<lib::net::Endpoint> to_endpoint(const SockAddress& address, bool unspec_ok = false);
SockAddress from_endpoint(lib::net::Endpoint endpoint);

}  // namespace kernel::net
