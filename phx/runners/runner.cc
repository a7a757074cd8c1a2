// The runner registry behind --hypervisor. Phoenix's own VMM joins as "builtin".
#include "phx/runners/runner.h"

#include <filesystem>

#include "phx/runners/builtin.h"
#include "phx/runners/qemu.h"

namespace phx {

std::string kernel_command_line(const RunSpec& spec, bool on_kvm) {
    std::string line;
    for (const auto& word : spec.kernel_args) line += (line.empty() ? "" : " ") + word;
    // kvm_pvm emulates ring 0 and cannot emulate XSAVE/XRSTOR (the VM dies): the kernel must
    // save thread FP state with FXSAVE (docs/ARCHITECTURE.md, "Known host quirks").
    std::error_code error;
    if (on_kvm && std::filesystem::exists("/sys/module/kvm_pvm", error))
        line += (line.empty() ? "" : " ") + std::string("phx.fpu=fxsave");
    return line;
}

std::string choose_runner(const std::string& name, Accel accel) {
    if (name != "auto") return name;
    return resolve_accel(accel) == Accel::Kvm ? "builtin" : "qemu";
}

std::vector<std::string> runner_names() { return {"auto", "builtin", "qemu"}; }

std::unique_ptr<Runner> make_runner(const std::string& name) {
    if (name == "qemu") return std::make_unique<QemuRunner>();
    if (name == "builtin") return std::make_unique<BuiltinRunner>();
    return nullptr;
}

}  // namespace phx
