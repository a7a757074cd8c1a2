// `phx image create|list|delete` and `phx build` (OPS's spelling of image create): disk
// images in $PHX_HOME/images (default ~/.phx/images), docs/image.md.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace phx {

void add_image_commands(CLI::App& app, int& status);

// $PHX_HOME, else $HOME/.phx. Throws PhxError when neither is usable.
std::string phx_home();
// The store's path of image NAME (validated: a plain file name).
std::string image_store_path(const std::string& name);

}  // namespace phx
