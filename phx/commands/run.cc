// The run command: the flags, then validate input, write the manifest, pick a runner, run.
#include "phx/commands/run.h"

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "phx/config/env_entry.h"
#include "phx/config/memory_size.h"
#include "phx/error.h"
#include "phx/file_io.h"
#include "phx/image/manifest_builder.h"
#include "phx/kernel_locator.h"
#include "phx/log.h"
#include "phx/program_check.h"
#include "phx/runners/runner.h"
#include "phx/temp_dir.h"

namespace phx {

namespace {

struct RunOptions {
    std::string program;
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::vector<std::string> debug_flags;
    std::vector<std::string> kernel_args;
    std::string memory = "1G";
    std::string kernel;
    std::string hypervisor = "auto";
    uint32_t max_restarts = vmm::RestartPolicy{}.max_restarts;
    double restart_window_s = vmm::RestartPolicy{}.window_ms / 1000.0;
    uint64_t restart_backoff_ms = vmm::RestartPolicy{}.backoff_initial_ms;
    bool no_restart = false;
    bool host_stats = false;
    std::string accel = "auto";
    bool trace = false;
    bool verbose = false;
};

// -d flags plus --trace, each name once, in the order given.
std::vector<std::string> debug_flags(const RunOptions& options) {
    std::vector<std::string> flags;
    auto add = [&](const std::string& flag) {
        if (flag.empty()) throw PhxError(kExitUsage, "-d: empty debug flag name");
        for (const auto& seen : flags)
            if (seen == flag) return;
        flags.push_back(flag);
    };
    for (const auto& flag : options.debug_flags) add(flag);
    if (options.trace) add("trace");
    return flags;
}

int run(const RunOptions& options) {
    set_verbose(options.verbose);
    // Every input is checked before anything is started or written.
    for (const auto& entry : options.env) check_env_entry(entry);
    for (const auto& word : options.kernel_args)
        if (word.empty() || word.find_first_of(" \t\n\r") != std::string::npos)
            throw PhxError(kExitUsage, "--kernel-arg '" + word + "': must be one word without spaces");
    uint64_t memory_mib = parse_memory_mib(options.memory);
    auto flags = debug_flags(options);
    Accel accel = parse_accel(options.accel);
    std::string hypervisor = choose_runner(options.hypervisor, accel);
    log_verbose("hypervisor: " + hypervisor);
    auto runner = make_runner(hypervisor);
    if (!runner) throw PhxError(kExitUsage, "--hypervisor " + options.hypervisor + ": unknown");
    auto image = load_program(options.program);
    std::string kernel = locate_kernel(options.kernel);

    Launch launch;
    launch.program_path = "/" + std::filesystem::path(options.program).filename().string();
    launch.args = options.args;
    launch.env = options.env;
    launch.debug_flags = flags;
    launch.image = image;
    auto manifest = build_manifest(launch);

    TempDir work;
    RunSpec spec;
    spec.kernel_path = kernel;
    spec.manifest_path = work.file("manifest.bin");
    spec.work_dir = work.path();
    spec.memory_mib = memory_mib;
    spec.accel = accel;
    spec.restart.restart_on_reset = !options.no_restart;
    spec.restart.max_restarts = options.max_restarts;
    spec.restart.window_ms = uint64_t(options.restart_window_s * 1000);
    spec.restart.backoff_initial_ms = options.restart_backoff_ms;
    spec.host_stats = options.host_stats;
    spec.kernel_args = options.kernel_args;
    try {
        write_file(spec.manifest_path, manifest);
    } catch (const std::system_error& e) {
        throw PhxError(kExitVmFailed, std::string("cannot write the manifest: ") + e.what());
    }
    log_verbose("manifest: " + spec.manifest_path + " (" + std::to_string(manifest.size()) +
                " bytes, program " + launch.program_path + ")");
    return runner->run(spec);
}

}  // namespace

void add_run_command(CLI::App& app, int& status) {
    auto options = std::make_shared<RunOptions>();
    CLI::App* cmd = app.add_subcommand("run", "Boot a Phoenix VM that runs one Linux program");
    cmd->footer(
        "The program runs as /<file name> inside the VM; arguments after -- are its argv[1..].\n"
        "Kernel search: --kernel, $PHX_KERNEL, ../kernel/phoenix.elf and\n"
        "../share/phoenix/phoenix.elf next to phx.\n"
        "Exit status: the program's (128+N when signal N killed it), 2 for bad input,\n"
        "125 when the VM failed (kernel panic, QEMU error).");
    cmd->add_option("program", options->program,
                    "static x86-64 Linux ELF executable to run (glibc, musl, static-pie)")
        ->type_name("ELF")
        ->required();
    cmd->add_option("args", options->args, "arguments for the program (put them after --)")
        ->type_name("ARG");
    // Options take exactly one value per use so that "-e K=V ELF" does not swallow ELF.
    cmd->add_option("-e,--env", options->env, "environment variable KEY=VALUE (repeatable)")
        ->type_name("KEY=VALUE")
        ->allow_extra_args(false);
    cmd->add_option("-m,--memory", options->memory,
                    "guest memory: 512M, 1G, 1.5G, 2048 (MiB); at least 64M")
        ->type_name("SIZE")
        ->capture_default_str();
    cmd->add_option("-d,--debug", options->debug_flags,
                    "kernel debug flag, OPS Debugflags names: trace, fault (repeatable)")
        ->type_name("FLAG")
        ->allow_extra_args(false);
    cmd->add_flag("--trace", options->trace, "log every syscall on the console (-d trace)");
    cmd->add_option("--kernel", options->kernel,
                    "Phoenix kernel ELF (default: $PHX_KERNEL, else next to phx)")
        ->type_name("PATH");
    cmd->add_option("--kernel-arg", options->kernel_args,
                    "extra kernel command-line word, for debugging (repeatable; see "
                    "docs/boot-protocol.md)")
        ->type_name("WORD")
        ->allow_extra_args(false);
    cmd->add_option("--hypervisor", options->hypervisor, "hypervisor: builtin (Phoenix's KVM VMM), qemu, or auto (builtin when KVM works)")
        ->type_name("NAME")
        ->check(CLI::IsMember(runner_names()))
        ->capture_default_str();
    cmd->add_option("--max-restarts", options->max_restarts,
                    "restart a resetting guest at most N times within --restart-window "
                    "(0: never)")
        ->type_name("N")
        ->capture_default_str();
    cmd->add_option("--restart-window", options->restart_window_s,
                    "seconds over which --max-restarts counts (0: the whole run)")
        ->type_name("SECONDS")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    cmd->add_option("--restart-backoff", options->restart_backoff_ms,
                    "first delay (ms, doubling) once boots keep dying within a second; 0: none")
        ->type_name("MS")
        ->capture_default_str();
    cmd->add_flag("--no-restart", options->no_restart, "a guest reset ends the run (status 125)");
    cmd->add_flag("--host-stats", options->host_stats,
                  "show phx's open fds, RSS and threads on every reboot line");
    cmd->add_option("--accel", options->accel,
                    "accelerator: kvm, tcg, or auto (kvm when /dev/kvm opens read-write)")
        ->type_name("ACCEL")
        ->check(CLI::IsMember({"auto", "kvm", "tcg"}))
        ->capture_default_str();
    cmd->add_flag("-v,--verbose", options->verbose,
                  "log the kernel, accelerator and hypervisor command line to stderr");
    cmd->callback([options, &status] { status = run(*options); });
}

}  // namespace phx
