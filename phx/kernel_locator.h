// Finding the Phoenix kernel: --kernel, $PHX_KERNEL, next to phx in the build tree, or in the
// install prefix.
#pragma once

#include <string>

namespace phx {

// The kernel to boot. `explicit_path` is --kernel ("" when not given). Throws PhxError: an
// explicit path or $PHX_KERNEL that is not a file is bad input (kExitUsage); finding nothing
// in the default places is a broken installation (kExitVmFailed).
std::string locate_kernel(const std::string& explicit_path);

}  // namespace phx
