// The QEMU runner: `qemu-system-x86_64 -M microvm` (or q35, --machine) with the devices of
// docs/boot-protocol.md.
#pragma once

#include <string>
#include <vector>

#include "phx/runners/runner.h"

namespace phx {

class QemuRunner final : public Runner {
public:
    int run(const RunSpec& spec) override;

    // The exact command line of docs/boot-protocol.md; `accel` is Kvm or Tcg (resolved).
    static std::vector<std::string> command_line(const RunSpec& spec, Accel accel,
                                                 const std::string& status_path);
};

}  // namespace phx
