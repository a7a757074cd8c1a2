// The runner registry behind --hypervisor. Phoenix's own VMM joins as "builtin".
#include "phx/runners/runner.h"

#include "phx/runners/qemu.h"

namespace phx {

std::vector<std::string> runner_names() { return {"qemu"}; }

std::unique_ptr<Runner> make_runner(const std::string& name) {
    if (name == "qemu") return std::make_unique<QemuRunner>();
    return nullptr;
}

}  // namespace phx
