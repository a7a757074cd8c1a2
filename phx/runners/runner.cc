// The runner registry behind --hypervisor. Phoenix's own VMM joins as "builtin".
#include "phx/runners/runner.h"

#include "phx/runners/qemu.h"

namespace phx {

std::string kernel_command_line(const RunSpec& spec) {
    std::string line;
    for (const auto& word : spec.kernel_args) line += (line.empty() ? "" : " ") + word;
    return line;
}

std::vector<std::string> runner_names() { return {"qemu"}; }

std::unique_ptr<Runner> make_runner(const std::string& name) {
    if (name == "qemu") return std::make_unique<QemuRunner>();
    return nullptr;
}

}  // namespace phx
