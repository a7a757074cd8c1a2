// The image commands: gather the spec from flags (and, with -c, config.json), build, report.
#include "phx/commands/image.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "phx/config/env_entry.h"
#include "phx/error.h"
#include "phx/image/image_builder.h"
#include "phx/kernel_locator.h"
#include "phx/log.h"

namespace phx {

namespace {

namespace fs = std::filesystem;

struct CreateOptions {
    std::string program;
    std::string config;
    std::string name;
    std::string output;
    std::string kernel;
    std::vector<std::string> args;
    std::vector<std::string> env;
};

void make_directories(const std::string& path) {
    std::error_code ec;
    fs::create_directories(path, ec);
    if (ec) throw PhxError(kExitUsage, "cannot create " + path + ": " + ec.message());
}

int create(const CreateOptions& options) {
    Config config = options.config.empty() ? Config{} : load_config(options.config);
    ImageSpec spec = image_spec(config, options.program, options.args, options.env, options.kernel);
    std::string name = options.name.empty() ? fs::path(spec.program).filename().string() : options.name;
    std::string out = options.output;
    if (out.empty()) {
        out = image_store_path(name);
        make_directories(fs::path(out).parent_path().string());
    }
    build_image(spec, out);
    std::cout << out << '\n';
    return 0;
}

int list() {
    std::string dir = phx_home() + "/images";
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return 0;
    std::vector<std::pair<std::string, uintmax_t>> images;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.path().extension() != ".img" || !entry.is_regular_file()) continue;
        images.emplace_back(entry.path().stem().string(), entry.file_size());
    }
    std::sort(images.begin(), images.end());
    for (const auto& [name, size] : images)
        std::cout << name << "\t" << (size + (1 << 20) - 1) / (1 << 20) << " MiB\n";
    return 0;
}

int remove_image(const std::string& name) {
    std::string path = image_store_path(name);
    std::error_code ec;
    if (!fs::remove(path, ec)) {
        if (ec) throw PhxError(kExitUsage, "cannot delete " + path + ": " + ec.message());
        throw PhxError(kExitUsage, "no image named '" + name + "' (see phx image list)");
    }
    return 0;
}

void add_create_flags(CLI::App* cmd, std::shared_ptr<CreateOptions> options, bool positional) {
    if (positional)
        cmd->add_option("program", options->program, "the Linux x86-64 ELF program")->type_name("ELF");
    cmd->add_option("-a,--app", options->program, "the Linux x86-64 ELF program")->type_name("ELF");
    cmd->add_option("-c,--config", options->config, "OPS-style config.json")->type_name("FILE");
    cmd->add_option("-i,--imagename", options->name, "image name (default: the program's file name)")
        ->type_name("NAME");
    cmd->add_option("-o,--output", options->output, "write the image to FILE instead of the store")
        ->type_name("FILE");
    cmd->add_option("--kernel", options->kernel, "Phoenix kernel ELF (default: next to phx)")->type_name("PATH");
    cmd->add_option("-e,--env", options->env, "environment variable KEY=VALUE (repeatable)")
        ->type_name("KEY=VALUE")
        ->allow_extra_args(false);
    cmd->add_option("args", options->args, "arguments for the program (after --)")->type_name("ARG");
}

// "1,2,139"
std::string status_list(const std::vector<uint8_t>& statuses) {
    std::string text;
    for (uint8_t status : statuses) text += (text.empty() ? "" : ",") + std::to_string(status);
    return text;
}

// RebootOnExit (or RestartPolicy, its readable spelling), expected_exit_code and idle_on_exit
// as the kernel's manifest options (lib/manifest/exit_policy.h).
void add_exit_options(const Config& config, std::vector<std::pair<std::string, std::string>>& options) {
    using When = RebootOnExit::When;
    std::optional<RebootOnExit> reboot = config.reboot_on_exit;
    if (config.restart_policy) {
        When from_policy = *config.restart_policy == RestartPolicy::Never       ? When::Never
                           : *config.restart_policy == RestartPolicy::OnFailure ? When::OnFailure
                                                                                : When::Always;
        if (reboot && *config.restart_policy == RestartPolicy::Never && reboot->when != When::Never)
            throw PhxError(kExitUsage,
                           "config.json: RestartPolicy \"never\" and RebootOnExit disagree; keep one of them");
        if (!reboot) reboot = RebootOnExit{from_policy, {}};
    }
    if (reboot) {
        std::string value;
        switch (reboot->when) {
            case When::Never: value = "f"; break;
            case When::OnFailure: value = "t"; break;
            case When::Always: value = "*"; break;
            case When::OnStatus: value = status_list(reboot->statuses); break;
            case When::UnlessStatus: value = "!" + std::to_string(reboot->statuses.at(0)); break;
        }
        options.emplace_back("reboot_on_exit", value);
    }
    if (!config.expected_exit_codes.empty())
        options.emplace_back("expected_exit_code", status_list(config.expected_exit_codes));
    if (config.idle_on_exit) options.emplace_back("idle_on_exit", "t");
}

}  // namespace

ImageSpec image_spec(const Config& config, const std::string& program, const std::vector<std::string>& args,
                     const std::vector<std::string>& env, const std::string& kernel) {
    // Parsed, but what they ask for does not exist yet: refuse rather than ignore.
    auto unsupported = [](const std::string& key, const std::string& why) {
        throw PhxError(kExitUsage, "config.json: " + key + " is not supported yet (" + why + ")");
    };
    if (!config.manifest_passthrough.empty())
        unsupported("ManifestPassthrough." + config.manifest_passthrough.front().first,
                    "the kernel reads reboot_on_exit, expected_exit_code and idle_on_exit only");
    if (config.run.cpus && *config.run.cpus > 1) unsupported("RunConfig.CPUs above 1", "the VM has one vCPU");

    ImageSpec spec;
    spec.program = !program.empty() ? program : config.program.value_or("");
    if (spec.program.empty()) throw PhxError(kExitUsage, "no program: give -a ELF or Program in config.json");
    spec.kernel = locate_kernel(!kernel.empty() ? kernel : config.kernel.value_or(""));
    spec.args = !args.empty() ? args : config.args;
    for (const auto& [key, value] : config.env) {
        bool overridden = false;
        for (const auto& entry : env) overridden |= entry.rfind(key + "=", 0) == 0;
        if (!overridden) spec.env.push_back(key + "=" + value);
    }
    for (const auto& entry : env) {
        check_env_entry(entry);
        spec.env.push_back(entry);
    }
    spec.debug_flags = config.debug_flags;
    if (std::find(spec.debug_flags.begin(), spec.debug_flags.end(), "noaslr") != spec.debug_flags.end())
        log_info("warning: NoASLR: every boot of this image gets the same memory layout (for debugging only)");
    spec.files = config.files;
    spec.dirs = config.dirs;
    spec.map_dirs = config.map_dirs;
    spec.name_servers = config.name_servers;
    if (config.run.ip_address) {
        spec.kernel_options.emplace_back("ipaddr", *config.run.ip_address);
        if (config.run.netmask) spec.kernel_options.emplace_back("netmask", *config.run.netmask);
        if (config.run.gateway) spec.kernel_options.emplace_back("gateway", *config.run.gateway);
    }
    add_exit_options(config, spec.kernel_options);
    if (!config.name_servers.empty()) {
        std::string joined;
        for (const auto& server : config.name_servers) joined += (joined.empty() ? "" : ",") + server;
        spec.kernel_options.emplace_back("nameservers", joined);
    }
    spec.size_bytes = config.base_volume_bytes.value_or(0);
    spec.timestamp = image_timestamp();
    return spec;
}

std::string phx_home() {
    if (const char* home = std::getenv("PHX_HOME"); home && *home) return home;
    if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.phx";
    throw PhxError(kExitUsage, "neither PHX_HOME nor HOME is set: nowhere to keep images");
}

std::string image_store_path(const std::string& name) {
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
        throw PhxError(kExitUsage, "image name '" + name + "' must be a plain file name");
    return phx_home() + "/images/" + name + ".img";
}

void add_image_commands(CLI::App& app, int& status) {
    CLI::App* image = app.add_subcommand("image", "Build, list and delete Phoenix disk images");
    image->require_subcommand(1);

    auto create_options = std::make_shared<CreateOptions>();
    CLI::App* create_cmd = image->add_subcommand("create", "Build a bootable image of a program");
    add_create_flags(create_cmd, create_options, false);
    create_cmd->callback([create_options, &status] { status = create(*create_options); });

    CLI::App* list_cmd = image->add_subcommand("list", "List the images in the store");
    list_cmd->callback([&status] { status = list(); });

    auto name = std::make_shared<std::string>();
    CLI::App* delete_cmd = image->add_subcommand("delete", "Delete an image from the store");
    delete_cmd->add_option("name", *name, "image name")->required();
    delete_cmd->callback([name, &status] { status = remove_image(*name); });

    auto build_options = std::make_shared<CreateOptions>();
    CLI::App* build_cmd = app.add_subcommand("build", "Build a bootable image of a program (= image create)");
    add_create_flags(build_cmd, build_options, true);
    build_cmd->callback([build_options, &status] { status = create(*build_options); });
}

}  // namespace phx
