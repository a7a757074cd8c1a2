// `phx run ELF [-- ARGS...]`: boot the program in a fresh Phoenix VM and return its status.
#pragma once

#include <CLI/CLI.hpp>

namespace phx {

// Registers the subcommand on `app`; when it runs, `status` receives phx's exit status.
void add_run_command(CLI::App& app, int& status);

}  // namespace phx
