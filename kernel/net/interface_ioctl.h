// The interface ioctls a socket answers (netdevice(7)): SIOCGIFCONF, SIOCGIFADDR,
// SIOCGIFNETMASK, SIOCGIFBRDADDR, SIOCGIFFLAGS, SIOCGIFHWADDR, SIOCGIFINDEX, SIOCGIFNAME,
// SIOCGIFMTU, read-only.
#pragma once

#include <cstdint>

#include "lib/base/result.h"

namespace kernel::net {

// NotTy when `request` is not one of them.
lib::Result<int64_t> interface_ioctl(uint32_t request, uint64_t argument);

}  // namespace kernel::net
