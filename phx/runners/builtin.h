// The built-in runner: Phoenix's own KVM VMM (vmm/), in phx's process. KVM only.
#pragma once

#include "phx/runners/runner.h"

namespace phx {

class BuiltinRunner final : public Runner {
public:
    int run(const RunSpec& spec) override;
};

}  // namespace phx
