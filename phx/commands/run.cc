// The run command: validate input, write the manifest, pick a runner, run.
#include "phx/commands/run.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>

#include "lib/manifest/manifest_writer.h"
#include "phx/error.h"
#include "phx/kernel_locator.h"
#include "phx/program_check.h"
#include "phx/runners/qemu.h"

namespace phx {

namespace {

struct RunOptions {
    std::string program;
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::vector<std::string> debug_flags;
    std::string memory = "1G";
    std::string kernel;
    std::string hypervisor = "qemu";
    std::string accel = "auto";
    bool trace = false;
    bool verbose = false;
};

// OPS/QEMU memory sizes: 512M, 1G, 2048 (MiB), 1.5G is not accepted.
uint64_t parse_memory_mib(const std::string& text) {
    static const std::regex pattern(R"(^([0-9]{1,9})([MmGg]?)$)");
    std::smatch match;
    if (!std::regex_match(text, match, pattern))
        throw PhxError(kExitUsage, "-m " + text + ": expected a size like 512M, 2G or 1024");
    uint64_t value = std::stoull(match[1]);
    if (match[2] == "G" || match[2] == "g") value *= 1024;
    if (value < 64) throw PhxError(kExitUsage, "-m " + text + ": at least 64M is needed");
    if (value > 1024 * 1024) throw PhxError(kExitUsage, "-m " + text + ": at most 1T");
    return value;
}

void check_env(const std::string& entry) {
    auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0)
        throw PhxError(kExitUsage, "-e " + entry + ": expected KEY=VALUE");
}

class TempDir {
public:
    TempDir() {
        const char* base = getenv("TMPDIR");
        std::string pattern = std::string(base && *base ? base : "/tmp") + "/phx-run-XXXXXX";
        if (!mkdtemp(pattern.data()))
            throw PhxError(kExitVmFailed, "cannot create a temporary directory in " + pattern);
        m_path = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    const std::string& path() const { return m_path; }

private:
    std::string m_path;
};

std::string write_manifest(const RunOptions& options, const std::vector<std::byte>& program,
                           const std::string& dir) {
    using lib::manifest::RecordType;
    lib::manifest::ManifestWriter writer;
    std::string name = std::filesystem::path(options.program).filename().string();
    writer.add_text(RecordType::Program, "/" + name);
    for (const auto& arg : options.args) writer.add_text(RecordType::Arg, arg);
    for (const auto& entry : options.env) writer.add_text(RecordType::Env, entry);
    for (const auto& flag : options.debug_flags) writer.add_text(RecordType::DebugFlag, flag);
    if (options.trace) writer.add_text(RecordType::DebugFlag, "trace");
    writer.add_bytes(RecordType::ProgramImage, program);
    auto bytes = writer.finish();
    std::string path = dir + "/manifest.bin";
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    if (!out) throw PhxError(kExitVmFailed, "cannot write " + path);
    return path;
}

int run(const RunOptions& options) {
    for (const auto& arg : options.args)
        if (arg.find('\0') != std::string::npos)
            throw PhxError(kExitUsage, "arguments cannot contain NUL bytes");
    for (const auto& entry : options.env) check_env(entry);
    uint64_t memory = parse_memory_mib(options.memory);
    Accel accel = options.accel == "kvm" ? Accel::Kvm
                  : options.accel == "tcg" ? Accel::Tcg
                                           : Accel::Auto;
    auto program = load_program(options.program);
    std::string kernel = locate_kernel(options.kernel);
    TempDir work;
    RunSpec spec;
    spec.kernel_path = kernel;
    spec.manifest_path = write_manifest(options, program, work.path());
    spec.work_dir = work.path();
    spec.memory_mib = memory;
    spec.accel = accel;
    spec.verbose = options.verbose;
    std::unique_ptr<Runner> runner = std::make_unique<QemuRunner>();
    return runner->run(spec);
}

}  // namespace

void add_run_command(CLI::App& app, int& status) {
    auto options = std::make_shared<RunOptions>();
    CLI::App* cmd = app.add_subcommand("run", "Boot a Phoenix VM that runs one Linux program");
    cmd->add_option("program", options->program, "static x86-64 Linux ELF executable to run")
        ->required();
    cmd->add_option("args", options->args, "arguments for the program (after --)");
    cmd->add_option("-e,--env", options->env, "environment variable KEY=VALUE (repeatable)");
    cmd->add_option("-m,--memory", options->memory, "guest memory: 512M, 2G, 1024 (MiB)")
        ->capture_default_str();
    cmd->add_option("-d,--debug", options->debug_flags,
                    "kernel debug flag, OPS Debugflags names: trace, fault (repeatable)");
    cmd->add_flag("--trace", options->trace, "log every syscall (same as -d trace)");
    cmd->add_option("--kernel", options->kernel,
                    "Phoenix kernel ELF (default: $PHX_KERNEL, else next to phx)");
    cmd->add_option("--hypervisor", options->hypervisor, "hypervisor to run on")
        ->check(CLI::IsMember({"qemu"}))
        ->capture_default_str();
    cmd->add_option("--accel", options->accel,
                    "accelerator: kvm, tcg, or auto (kvm when /dev/kvm works)")
        ->check(CLI::IsMember({"auto", "kvm", "tcg"}))
        ->capture_default_str();
    cmd->add_flag("-v,--verbose", options->verbose, "print the hypervisor command line");
    cmd->callback([options, &status] { status = run(*options); });
}

}  // namespace phx
