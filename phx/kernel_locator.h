// Finding the Phoenix kernel: --kernel, $PHX_KERNEL, next to phx in the build tree, or in the
// install prefix.
#pragma once

#include <string>

namespace phx {

std::string locate_kernel(const std::string& explicit_path);

}  // namespace phx
