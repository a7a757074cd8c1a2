// The exit policy carried out: power off, reset or idle.
#include "kernel/proc/lifecycle.h"

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/power.h"
#include "kernel/console/log.h"
#include "lib/manifest/exit_policy.h"
#include "lib/manifest/manifest.h"

namespace kernel::proc {

namespace {

using lib::manifest::ExitAction;

lib::manifest::ExitPolicy g_policy;  // power off until the manifest says otherwise

[[noreturn]] void idle(const char* what, int status) {
    kprint("phoenix: {} {}: idling (idle_on_exit); stop the VM to end the run\n", what, status);
    arch::halt_forever();
}

}  // namespace

bool init_lifecycle(const lib::manifest::Manifest& manifest, std::string_view& bad_key) {
    auto policy = lib::manifest::ExitPolicy::from_manifest(manifest, bad_key);
    if (policy.is_error()) return false;
    g_policy = policy.value();
    return true;
}

void exit_program(int status) {
    auto decision = lib::manifest::decide_exit(g_policy, uint8_t(status & 0xff));
    switch (decision.action) {
        case ExitAction::Reboot:
            kprint("phoenix: exit status {}: rebooting (reboot_on_exit)\n", status & 0xff);
            arch::reset();
        case ExitAction::Idle:
            idle("exit status", status & 0xff);
        case ExitAction::PowerOff:
            break;
    }
    arch::power_off(decision.status);
}

void end_after_panic() {
    switch (lib::manifest::decide_panic(g_policy)) {
        case ExitAction::Reboot:
            kprint("phoenix: kernel panic: rebooting (reboot_on_exit)\n");
            arch::reset();
        case ExitAction::Idle:
            arch::status_line("panic");
            idle("kernel panic, status", 255);
        case ExitAction::PowerOff:
            break;
    }
    arch::power_off_panic();
}

}  // namespace kernel::proc
