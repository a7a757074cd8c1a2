// The QEMU runner: `qemu-system-x86_64 -M microvm` with the devices of docs/boot-protocol.md.
#pragma once

#include <string>
#include <vector>

#include "phx/runners/runner.h"

namespace phx {

class QemuRunner final : public Runner {
public:
    int run(const RunSpec& spec) override;
    // The exact command line (exposed for tests and -v).
    static std::vector<std::string> command_line(const RunSpec& spec, bool use_kvm,
                                                 const std::string& status_path);
};

// Turns the status channel's last line (or, failing that, QEMU's exit code) into the
// program's exit status; throws PhxError(kExitVmFailed) for a panic or no status at all.
int interpret_status(const std::string& status_text, int qemu_exit_code);

}  // namespace phx
