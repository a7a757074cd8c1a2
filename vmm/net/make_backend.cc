#include "vmm/net/make_backend.h"

#include "vmm/net/slirp_backend.h"
#include "vmm/net/tap_backend.h"

namespace vmm::net {

Expected<std::unique_ptr<NetBackend>> make_backend(const NetConfig& config) {
    switch (config.mode) {
        case NetMode::None:
            return std::unique_ptr<NetBackend>();
        case NetMode::Slirp:
            return std::unique_ptr<NetBackend>(TRY(SlirpBackend::create(config.forwards)));
        case NetMode::Tap:
            if (!config.forwards.empty())
                return usage_error(
                    "port forwards (-p) need user-mode networking; on a TAP "
                    "device the guest is reached at its own address");
            return std::unique_ptr<NetBackend>(TRY(TapBackend::create(config.tap_name)));
    }
    return std::unique_ptr<NetBackend>();
}

}  // namespace vmm::net
