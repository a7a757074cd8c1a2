// The verbose switch is process-wide: phx runs one command per process.
#include "phx/log.h"

#include <cstdio>

namespace phx {

namespace {

bool g_verbose = false;

}  // namespace

void set_verbose(bool on) { g_verbose = on; }

bool verbose() { return g_verbose; }

void log_verbose(std::string_view line) {
    if (g_verbose) std::fprintf(stderr, "phx: %.*s\n", int(line.size()), line.data());
}

void log_info(std::string_view line) {
    std::fprintf(stderr, "phx: %.*s\n", int(line.size()), line.data());
}

}  // namespace phx
