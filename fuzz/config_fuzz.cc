// Fuzzes phx's config.json parser (phx/config/config_file.cc): any text must end in a Config
// or a PhxError naming the problem; any other exception escaping (a JSON library error, a
// standard-library throw) is a bug, and so is a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "phx/config/config_file.h"
#include "phx/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        phx::Config config = phx::parse_config(text, "config.json");
        (void)config;
    } catch (const phx::PhxError& error) {
        if (error.status() != phx::kExitUsage) abort();  // bad input is always a usage error
    } catch (...) {
        abort();
    }
    return 0;
}
