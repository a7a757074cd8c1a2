// sockaddr_in (netinet/in.h): family, port and address in network order, eight zero bytes.
#include "kernel/net/inet_address.h"

#include "lib/net/bytes.h"

namespace kernel::net {

lib::Result<lib::net::Endpoint> to_endpoint(const SockAddress& address, bool unspec_ok) {
    if (unspec_ok && address.length >= 2 && address.family() == kAfUnspec)
        return lib::net::Endpoint{};
    if (address.length < 2) return lib::Errno::Inval;
    if (address.family() != kAfInet) return lib::Errno::AfNoSupport;
    if (address.length < 16) return lib::Errno::Inval;
    return lib::net::Endpoint{{lib::net::load_be32(&address.bytes[4])},
                              lib::net::load_be16(&address.bytes[2])};
}

SockAddress from_endpoint(lib::net::Endpoint endpoint) {
    SockAddress out;
    out.bytes[0] = kAfInet;
    lib::net::store_be16(&out.bytes[2], endpoint.port);
    lib::net::store_be32(&out.bytes[4], endpoint.address.value);
    out.length = 16;
    return out;
}

}  // namespace kernel::net
