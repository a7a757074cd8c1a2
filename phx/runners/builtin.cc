#include "phx/runners/builtin.h"

#include <cstring>
#include <string>

#include "phx/error.h"
#include "phx/file_io.h"
#include "phx/image/disk_image.h"
#include "phx/image/image_builder.h"
#include "phx/log.h"
#include "vmm/supervisor.h"

namespace phx {

int BuiltinRunner::run(const RunSpec& spec) {
    if (spec.accel == Accel::Tcg)
        throw PhxError(kExitUsage, "--hypervisor builtin runs on KVM only; use --hypervisor qemu "
                                   "for --accel tcg");
    vmm::RunRequest request;
    request.kernel_path = spec.kernel_path;
    if (spec.kernel_path.empty()) {
        request.kernel_path = spec.disk_path + ":" + kImageKernelPath;  // for messages
        request.kernel_bytes = read_image_file(spec.disk_path, kImageKernelPath);
    }
    if (!spec.manifest_path.empty()) request.manifest = read_file(spec.manifest_path);
    request.disk_path = spec.disk_path;
    request.cmdline = kernel_command_line(spec, Accel::Kvm);
    request.memory_bytes = spec.memory_mib << 20;
    request.policy = spec.restart;
    request.host_stats = spec.host_stats;
    request.crash_log_dir = spec.log_dir;
    request.keep_crash_reports = spec.keep_crash_reports;
    request.net = spec.net;
    request.mac = spec.mac;
    request.log = [](const std::string& line) { log_info(line); };
    if (spec.announce_first_boot)
        request.log_detail = [](const std::string& line) { log_info(line); };
    else
        request.log_detail = [](const std::string& line) { log_verbose(line); };
    log_verbose("hypervisor: builtin (KVM), " + std::to_string(spec.memory_mib) + " MiB");

    auto outcome = vmm::run_vm(request);
    if (outcome.is_error()) {
        const vmm::Error& error = outcome.error();
        throw PhxError(error.kind == vmm::ErrorKind::Usage ? kExitUsage : kExitVmFailed,
                       std::string(error.message()));
    }
    const vmm::RunOutcome& result = outcome.value();
    switch (result.end) {
        case vmm::RunEnd::Exited:
            return result.status;
        case vmm::RunEnd::Panicked:
            throw PhxError(kExitVmFailed, "the Phoenix kernel panicked");
        case vmm::RunEnd::ResetStopped:
            throw PhxError(kExitVmFailed, "the guest reset and the restart policy says not to "
                                          "restart it");
        case vmm::RunEnd::RestartLimit:
            throw PhxError(kExitVmFailed,
                           "the guest kept resetting: " + std::to_string(result.boots - 1) +
                               " restarts, the restart limit (--max-restarts " +
                               std::to_string(spec.restart.max_restarts) + " in " +
                               std::to_string(spec.restart.window_ms / 1000.0).substr(0, 5) +
                               " s)");
        case vmm::RunEnd::Interrupted:
            throw PhxError(128 + result.status, std::string("stopped by SIG") +
                                                    (sigabbrev_np(result.status) ?: "?"));
    }
    return kExitVmFailed;
}

}  // namespace phx
