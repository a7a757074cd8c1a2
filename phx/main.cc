// phx: run Linux programs as Phoenix unikernels. Errors are printed here, once, as one line.
#include <CLI/CLI.hpp>
#include <iostream>

#include "phx/commands/image.h"
#include "phx/commands/run.h"
#include "phx/error.h"

namespace {

constexpr const char* kVersion = "phx 0.1.0";

// CLI11 reports "phx bogus" as a missing subcommand; name the word instead.
bool is_unknown_command(CLI::App& app, int argc, char** argv) {
    if (argc < 2 || argv[1][0] == '-') return false;
    try {
        app.get_subcommand(argv[1]);
        return false;
    } catch (const CLI::OptionNotFound&) {
        return true;
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"phx: run unmodified Linux x86-64 programs as Phoenix unikernels", "phx"};
    app.set_version_flag("--version", kVersion);
    app.require_subcommand(1);
    int status = 0;
    phx::add_run_command(app, status);
    phx::add_image_commands(app, status);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
        if (is_unknown_command(app, argc, argv))
            std::cerr << "phx: unknown command '" << argv[1] << "' (see phx --help)\n";
        else
            std::cerr << "phx: " << e.what()
                      << (app.got_subcommand("run") ? " (see phx run --help)\n"
                                                    : " (see phx --help)\n");
        return phx::kExitUsage;
    } catch (const phx::PhxError& e) {
        std::cerr << "phx: " << e.what() << '\n';
        return e.status();
    } catch (const std::exception& e) {
        std::cerr << "phx: internal error: " << e.what() << '\n';
        return phx::kExitVmFailed;
    }
    return status;
}
