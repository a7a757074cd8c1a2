// The backend a NetConfig asks for.
#pragma once

#include <memory>

#include "vmm/error.h"
#include "vmm/net/backend.h"
#include "vmm/net/port_forward.h"

namespace vmm::net {

// nullptr for NetMode::None. Binds the forwarded host ports now: a busy one is an error here,
// before any VM exists.
Expected<std::unique_ptr<NetBackend>> make_backend(const NetConfig& config);

}  // namespace vmm::net
