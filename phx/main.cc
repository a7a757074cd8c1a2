// phx: build, run and deploy Phoenix unikernels. Errors are printed here, once.
#include <CLI/CLI.hpp>
#include <iostream>

#include "phx/commands/run.h"
#include "phx/error.h"

int main(int argc, char** argv) {
    CLI::App app{"phx: run Linux programs as Phoenix unikernels", "phx"};
    app.set_version_flag("--version", "phx 0.1.0");
    app.require_subcommand(1);
    int status = 0;
    phx::add_run_command(app, status);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? 0 : phx::kExitUsage;
    } catch (const phx::PhxError& e) {
        std::cerr << "phx: " << e.what() << '\n';
        return e.status();
    } catch (const std::exception& e) {
        std::cerr << "phx: " << e.what() << '\n';
        return phx::kExitVmFailed;
    }
    return status;
}
