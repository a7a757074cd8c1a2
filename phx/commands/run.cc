// The run command: the flags, then validate input, write the manifest, pick a runner, run.
#include "phx/commands/run.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "phx/config/env_entry.h"
#include "phx/config/memory_size.h"
#include "phx/config/port_spec.h"
#include "phx/error.h"
#include "phx/file_io.h"
#include "phx/image/disk_image.h"
#include "phx/image/elf_deps.h"
#include "phx/image/image_builder.h"
#include "phx/image/manifest_builder.h"
#include "phx/commands/image.h"
#include "phx/config/config_file.h"
#include "lib/manifest/manifest.h"
#include "phx/kernel_locator.h"
#include "phx/log.h"
#include "phx/program_check.h"
#include "phx/runners/runner.h"
#include "phx/temp_dir.h"

namespace phx {

namespace {

struct RunOptions {
    const CLI::App* command = nullptr;  // to tell flags given from defaults
    std::string config;
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
    std::string machine = "microvm";
    bool trace = false;
    bool verbose = false;
    std::vector<std::string> ports;      // -p HOST[:GUEST][/udp]
    std::vector<std::string> udp_ports;  // --udp-port HOST[:GUEST]
    std::string tap;                     // --tap NAME
    bool no_net = false;                 // --no-net
    std::string log_dir;                 // --log-dir DIR (default: default_log_dir)
    uint32_t keep_crash_reports = 10;    // --keep-crash-reports N
};

// The NIC's network: slirp by default (so the guest can always connect out), a TAP device with
// --tap or config.json's TapName, none with --no-net. Forwards from -p/--udp-port, else from
// config.json's Ports/UDPPorts. Every host port is checked free here, before anything starts.
vmm::net::NetConfig network(const RunOptions& options, const Config& config) {
    vmm::net::NetConfig net;
    for (const auto& text : options.ports) parse_port_spec("-p", text, false, net.forwards);
    for (const auto& text : options.udp_ports) parse_port_spec("--udp-port", text, true, net.forwards);
    bool from_flags = !net.forwards.empty();
    if (!from_flags) {
        add_port_ranges(config.run.ports, false, net.forwards);
        add_port_ranges(config.run.udp_ports, true, net.forwards);
    }
    check_forwards(net.forwards);
    std::string tap = !options.tap.empty() ? options.tap : config.run.tap_name.value_or("");
    if (options.no_net) {
        if (!options.tap.empty()) throw PhxError(kExitUsage, "--no-net and --tap: choose one");
        if (from_flags) throw PhxError(kExitUsage, "--no-net: then there is no network to forward -p ports from");
        return {};
    }
    if (!tap.empty()) {
        check_tap_name(!options.tap.empty() ? "--tap" : "config.json: RunConfig.TapName", tap);
        if (!net.forwards.empty())
            throw PhxError(kExitUsage, std::string(from_flags ? "-p" : "config.json: Ports") +
                                           " with --tap " + tap +
                                           ": forwards need the default user-mode network; on a "
                                           "TAP device the guest has its own address");
        net.mode = vmm::net::NetMode::Tap;
        net.tap_name = tap;
        return net;
    }
    net.mode = vmm::net::NetMode::Slirp;
    check_host_ports_free(net.forwards);
    return net;
}

// --machine's names (the flag checks them).
Machine parse_machine(const std::string& name) {
    if (name == "q35") return Machine::Q35;
    if (name == "q35-pcie") return Machine::Q35Pcie;
    if (name == "q35-legacy") return Machine::Q35Legacy;
    return Machine::Microvm;
}

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

// The image `name` means: a disk image file, else an image in the store; "" for neither.
std::string find_image(const std::string& name) {
    if (is_disk_image(name)) return name;
    std::error_code ec;
    if (std::filesystem::exists(name, ec)) return "";  // a file, but no image: a program
    if (name.find('/') != std::string::npos) return "";
    std::string stored = image_store_path(name);
    return is_disk_image(stored) ? stored : "";
}

// The image's manifest with the run's arguments (replacing the image's), environment and
// debug flags (added to the image's), as module 0, which the kernel prefers to the disk's.
std::vector<std::byte> override_manifest(const std::string& disk, const std::vector<std::string>& args,
                                         const std::vector<std::string>& env,
                                         const std::vector<std::string>& flags) {
    auto bytes = read_image_file(disk, kImageManifestPath);
    auto parsed = lib::manifest::Manifest::parse(bytes);
    if (parsed.is_error()) throw PhxError(kExitUsage, disk + ": its manifest is malformed");
    const auto& manifest = parsed.value();
    Launch launch;
    launch.program_path = std::string(manifest.program());
    if (args.empty())
        manifest.for_each(lib::manifest::RecordType::Arg, [&](const auto& r) { launch.args.emplace_back(r.text()); });
    else
        launch.args = args;
    manifest.for_each(lib::manifest::RecordType::Env, [&](const auto& r) { launch.env.emplace_back(r.text()); });
    launch.env.insert(launch.env.end(), env.begin(), env.end());
    manifest.for_each(lib::manifest::RecordType::DebugFlag,
                      [&](const auto& r) { launch.debug_flags.emplace_back(r.text()); });
    launch.debug_flags.insert(launch.debug_flags.end(), flags.begin(), flags.end());
    manifest.for_each(lib::manifest::RecordType::Option, [&](const auto& r) {
        std::string_view text = r.text();
        size_t equals = text.find('=');
        if (equals != std::string_view::npos)
            launch.options.emplace_back(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
    });
    return build_manifest(launch);
}

// Whether the manifest asks for reboots on exit (reboot_on_exit other than "f").
bool reboots_on_exit(const std::vector<std::byte>& bytes) {
    auto parsed = lib::manifest::Manifest::parse(bytes);
    std::string_view value;
    return parsed.has_value() && parsed.value().option("reboot_on_exit", value) && value != "f";
}

// An image for a program, built once per distinct input and kept in $PHX_HOME/cache, keyed
// by a hash of everything that goes into it.
std::string cached_image(const ImageSpec& spec) {
    uint64_t a = 0xcbf29ce484222325ull, b = 0x84222325cbf29ce4ull;
    auto mix = [&](const void* data, size_t size) {
        auto* p = static_cast<const unsigned char*>(data);
        for (size_t i = 0; i < size; ++i) {
            a = (a ^ p[i]) * 0x100000001b3ull;
            b = (b ^ p[i]) * 0x100000001b3ull + 1;
        }
    };
    auto mix_text = [&](const std::string& text) { mix(text.data(), text.size() + 1); };
    auto mix_file = [&](const std::string& path) {
        mix_text(path);
        auto bytes = read_file(path);
        mix(bytes.data(), bytes.size());
    };
    // The program and every library it loads: a rebuilt library must not hit a stale image.
    DependencyOptions deps_options;
    for (const auto& entry : spec.env)
        if (entry.rfind("LD_LIBRARY_PATH=", 0) == 0) deps_options.ld_library_path = entry.substr(16);
    Dependencies deps = resolve_dependencies(spec.program, deps_options);
    std::vector<std::string> inputs = {spec.program, spec.kernel};
    if (deps.interpreter) inputs.push_back(*deps.interpreter);
    inputs.insert(inputs.end(), deps.libraries.begin(), deps.libraries.end());
    inputs.insert(inputs.end(), spec.files.begin(), spec.files.end());
    for (const auto& path : inputs) mix_file(path);
    // Directory trees are hashed by content too.
    std::vector<std::string> trees = spec.dirs;
    for (const auto& [pattern, destination] : spec.map_dirs) {
        mix_text(pattern + "->" + destination);
        trees.push_back(std::filesystem::path(pattern).parent_path().string());
    }
    for (const auto& dir : trees) {
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec)) continue;
        std::vector<std::string> files;
        for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
             !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
            files.push_back(it->path().string());
        std::sort(files.begin(), files.end());
        for (const auto& file : files) {
            if (std::filesystem::is_regular_file(std::filesystem::symlink_status(file)))
                mix_file(file);
            else
                mix_text(file);
        }
    }
    for (const auto& list : {spec.args, spec.env, spec.debug_flags, spec.dirs, spec.name_servers}) {
        mix_text("|");
        for (const auto& item : list) mix_text(item);
    }
    mix_text("|");
    for (const auto& [key, value] : spec.kernel_options) mix_text(key + "=" + value);
    mix(&spec.timestamp, sizeof(spec.timestamp));
    mix(&spec.size_bytes, sizeof(spec.size_bytes));
    char key[40];
    std::snprintf(key, sizeof(key), "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
    std::string dir = phx_home() + "/cache";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw PhxError(kExitUsage, "cannot create " + dir + ": " + ec.message());
    std::string path = dir + "/" + key + ".img";
    if (!is_disk_image(path)) {
        log_verbose("building the image " + path);
        build_image(spec, path);
    }
    return path;
}

// --log-dir, else $XDG_STATE_HOME/phx/runs/<program file name> (~/.local/state without it),
// created now so that a bad directory is the user's error before anything runs.
std::string run_log_dir(const std::string& given, const std::string& program) {
    std::string dir = given;
    if (dir.empty()) {
        const char* state = std::getenv("XDG_STATE_HOME");
        const char* home = std::getenv("HOME");
        std::string base = state && *state ? std::string(state)
                           : home && *home ? std::string(home) + "/.local/state"
                                           : std::string();
        if (base.empty()) return "";  // nowhere to keep them
        dir = base + "/phx/runs/" + std::filesystem::path(program).filename().string();
    }
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw PhxError(kExitUsage, "--log-dir " + dir + ": cannot create it: " + ec.message());
    return dir;
}

int run(const RunOptions& given) {
    RunOptions options = given;
    Config config = options.config.empty() ? Config{} : load_config(options.config);
    // RunConfig gives the defaults; flags on the command line win.
    auto given_flag = [&](const char* name) { return options.command && options.command->count(name) > 0; };
    if (config.run.memory_mib && !given_flag("--memory")) options.memory = std::to_string(*config.run.memory_mib);
    if (config.run.accel && !given_flag("--accel")) options.accel = *config.run.accel ? "auto" : "tcg";
    if (config.run.verbose && *config.run.verbose) options.verbose = true;
    if (config.run.max_restarts && !given_flag("--max-restarts")) options.max_restarts = *config.run.max_restarts;
    if (config.run.restart_window_s && !given_flag("--restart-window"))
        options.restart_window_s = *config.run.restart_window_s;
    if (config.run.restart_backoff_ms && !given_flag("--restart-backoff"))
        options.restart_backoff_ms = *config.run.restart_backoff_ms;
    if (options.program.empty()) options.program = config.program.value_or("");
    if (options.program.empty()) throw PhxError(kExitUsage, "no program: give an ELF or image, or Program in -c config.json");
    set_verbose(options.verbose);
    // Every input is checked before anything is started or written.
    for (const auto& entry : options.env) check_env_entry(entry);
    for (const auto& word : options.kernel_args)
        if (word.empty() || word.find_first_of(" \t\n\r") != std::string::npos)
            throw PhxError(kExitUsage, "--kernel-arg '" + word + "': must be one word without spaces");
    uint64_t memory_mib = parse_memory_mib(options.memory);
    vmm::net::NetConfig net = network(options, config);
    auto flags = debug_flags(options);
    Accel accel = parse_accel(options.accel);
    Machine machine = parse_machine(options.machine);
    // Only QEMU emulates q35: auto picks it, builtin cannot.
    std::string hypervisor = machine != Machine::Microvm && options.hypervisor == "auto"
                                 ? "qemu"
                                 : choose_runner(options.hypervisor, accel);
    if (machine != Machine::Microvm && hypervisor != "qemu")
        throw PhxError(kExitUsage, "--machine " + options.machine + " needs --hypervisor qemu");
    log_verbose("hypervisor: " + hypervisor);
    auto runner = make_runner(hypervisor);
    if (!runner) throw PhxError(kExitUsage, "--hypervisor " + options.hypervisor + ": unknown");
    TempDir work;
    RunSpec spec;
    spec.kernel_path = options.kernel.empty() ? "" : locate_kernel(options.kernel);
    spec.work_dir = work.path();
    spec.memory_mib = memory_mib;
    spec.accel = accel;
    // RestartPolicy "never": a guest reset ends the run too (its exits never reboot).
    spec.restart.restart_on_reset = !options.no_restart && config.restart_policy != RestartPolicy::Never;
    spec.restart.max_restarts = options.max_restarts;
    spec.restart.window_ms = uint64_t(options.restart_window_s * 1000);
    spec.restart.backoff_initial_ms = options.restart_backoff_ms;
    spec.host_stats = options.host_stats;
    spec.kernel_args = options.kernel_args;
    // NoASLR also fixes the kernel's own base.
    bool no_aslr = std::find(flags.begin(), flags.end(), "noaslr") != flags.end() ||
                   std::find(config.debug_flags.begin(), config.debug_flags.end(), "noaslr") != config.debug_flags.end();
    if (no_aslr) spec.kernel_args.push_back("phx.nokaslr");
    spec.machine = machine;
    spec.net = net;
    spec.mac = vmm::net::random_mac();
    if (config.run.keep_crash_reports && !given_flag("--keep-crash-reports"))
        options.keep_crash_reports = *config.run.keep_crash_reports;
    spec.keep_crash_reports = options.keep_crash_reports;
    spec.log_dir = run_log_dir(options.log_dir, options.program);

    // An image (a file, or a name in the store), or a program: static ones travel in the
    // manifest, dynamic ones get an image built (and cached) for them.
    std::string disk = find_image(options.program);
    std::vector<std::byte> manifest;
    if (!disk.empty()) {
        if (!options.args.empty() || !options.env.empty() || !flags.empty())
            manifest = override_manifest(disk, options.args, options.env, flags);
    } else {
        ProgramFile program = load_program(options.program);
        Launch launch;
        launch.program_path = image_program_path(options.program);
        launch.args = options.args;
        launch.env = options.env;
        launch.debug_flags = flags;
        // Every program gets an image (built once per distinct input, cached): its
        // libraries, the config's files, /etc's basics. A static program without a config
        // also travels in the manifest module (which the kernel prefers), so it starts the
        // same way whatever the image holds; the image still gives it its filesystem.
        ImageSpec image = image_spec(config, options.program, options.args, options.env, options.kernel);
        for (const auto& flag : flags)
            if (std::find(image.debug_flags.begin(), image.debug_flags.end(), flag) == image.debug_flags.end())
                image.debug_flags.push_back(flag);
        disk = cached_image(image);
        launch.options = image.kernel_options;
        if (!program.dynamic && options.config.empty()) {
            launch.image = program.bytes;
            manifest = build_manifest(launch);
            if (spec.kernel_path.empty()) spec.kernel_path = locate_kernel("");
        }
    }
    spec.disk_path = disk;
    spec.announce_first_boot = reboots_on_exit(!manifest.empty() ? manifest : read_image_file(disk, kImageManifestPath));
    if (!manifest.empty()) {
        spec.manifest_path = work.file("manifest.bin");
        try {
            write_file(spec.manifest_path, manifest);
        } catch (const std::system_error& e) {
            throw PhxError(kExitVmFailed, std::string("cannot write the manifest: ") + e.what());
        }
        log_verbose("manifest: " + spec.manifest_path + " (" + std::to_string(manifest.size()) + " bytes)");
    }
    if (!disk.empty()) log_verbose("disk: " + disk);
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
                    "x86-64 Linux ELF program (static or dynamic), image file, or image name "
                    "(phx image list); default: Program in -c config.json")
        ->type_name("ELF|IMAGE");
    cmd->add_option("-c,--config", options->config, "OPS-style config.json (docs/config.md)")
        ->type_name("FILE");
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
    // Hidden (group ""): for testing the kernel's virtio-pci transport under QEMU.
    cmd->add_option("--machine", options->machine,
                    "QEMU machine: microvm (default), or q35 with virtio-pci devices: "
                    "transitional, modern-only behind PCIe root ports (q35-pcie), or "
                    "legacy-only (q35-legacy)")
        ->type_name("NAME")
        ->check(CLI::IsMember({"microvm", "q35", "q35-pcie", "q35-legacy"}))
        ->group("");
    cmd->add_option("-p,--port", options->ports,
                    "forward host port HOST to guest port GUEST (default: the same): 8080, "
                    "8080:80, 8000-8010, 5353/udp (repeatable; user-mode network only)")
        ->type_name("HOST[:GUEST][/udp]")
        ->allow_extra_args(false);
    cmd->add_option("--udp-port", options->udp_ports, "forward a UDP port, as -p HOST[:GUEST]/udp")
        ->type_name("HOST[:GUEST]")
        ->allow_extra_args(false);
    cmd->add_option("--tap", options->tap,
                    "put the NIC on the existing TAP device NAME instead of the user-mode "
                    "network (create it first: ip tuntap add NAME mode tap user $USER)")
        ->type_name("NAME");
    cmd->add_flag("--no-net", options->no_net,
                  "no NIC at all (default: a NIC on the user-mode network 10.0.2.0/24, guest "
                  "10.0.2.15, gateway 10.0.2.2, DNS 10.0.2.3)");
    cmd->add_option("--log-dir", options->log_dir,
                    "keep the run's crash reports here (default: "
                    "$XDG_STATE_HOME/phx/runs/PROGRAM, else ~/.local/state/phx/runs/PROGRAM)")
        ->type_name("DIR");
    cmd->add_option("--keep-crash-reports", options->keep_crash_reports,
                    "crash reports to keep in the log directory, newest first (0: none)")
        ->type_name("N")
        ->capture_default_str();
    cmd->add_flag("-v,--verbose", options->verbose,
                  "log the kernel, accelerator and hypervisor command line to stderr");
    options->command = cmd;
    cmd->callback([options, &status] { status = run(*options); });
}

}  // namespace phx
