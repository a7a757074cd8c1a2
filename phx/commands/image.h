// `phx image create|list|delete` and `phx build` (OPS's spelling of image create): disk
// images in $PHX_HOME/images (default ~/.phx/images), docs/image.md.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "phx/config/config_file.h"
#include "phx/image/image_builder.h"

namespace phx {

// What an image is built from: the command line's choices over config.json's. `program`,
// `args`, `env` and `kernel` come from the flags when given (args non-empty, -e entries
// override the config's same keys), else from the config (Program, Args, Env, Kernel).
// Throws PhxError(kExitUsage) for no program at all, and for config keys that are parsed but
// not carried out yet (RebootOnExit, RestartPolicy, ManifestPassthrough, RunConfig.Ports,
// RunConfig.CPUs above 1): never silently ignored.
ImageSpec image_spec(const Config& config, const std::string& program, const std::vector<std::string>& args,
                     const std::vector<std::string>& env, const std::string& kernel);

void add_image_commands(CLI::App& app, int& status);

// $PHX_HOME, else $HOME/.phx. Throws PhxError when neither is usable.
std::string phx_home();
// The store's path of image NAME (validated: a plain file name).
std::string image_store_path(const std::string& name);

}  // namespace phx
