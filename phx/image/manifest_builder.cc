// Manifest assembly through lib/manifest's writer, checked by its own parser before use.
#include "phx/image/manifest_builder.h"

#include <string_view>

#include "lib/manifest/manifest.h"
#include "lib/manifest/manifest_writer.h"
#include "phx/error.h"

namespace phx {

namespace {

using lib::manifest::RecordType;

// docs/manifest.md: text payloads may not contain NUL bytes (the kernel refuses them).
void add_text(lib::manifest::ManifestWriter& writer, RecordType type, std::string_view what,
              const std::string& text) {
    if (text.find('\0') != std::string::npos)
        throw PhxError(kExitUsage, std::string(what) + " contains a NUL byte");
    writer.add_text(type, text);
}

}  // namespace

std::vector<std::byte> build_manifest(const Launch& launch) {
    // Record lengths and the total size are 32-bit; leave room for everything else.
    constexpr size_t kMaxImage = (size_t(1) << 32) - (size_t(1) << 24);
    if (launch.image.size() > kMaxImage)
        throw PhxError(kExitUsage, "the program is too large (at most 4 GiB minus 16 MiB)");
    lib::manifest::ManifestWriter writer;
    add_text(writer, RecordType::Program, "the program path", launch.program_path);
    for (const auto& arg : launch.args) add_text(writer, RecordType::Arg, "an argument", arg);
    for (const auto& entry : launch.env) add_text(writer, RecordType::Env, "-e " + entry, entry);
    for (const auto& flag : launch.debug_flags)
        add_text(writer, RecordType::DebugFlag, "-d " + flag, flag);
    for (const auto& [key, value] : launch.options)
        add_text(writer, RecordType::Option, "the option " + key, key + "=" + value);
    if (!launch.image.empty()) writer.add_bytes(RecordType::ProgramImage, launch.image);
    auto bytes = writer.finish();
    // The kernel parses with the same code; a manifest it would refuse is phx's bug.
    if (lib::manifest::Manifest::parse(bytes).is_error())
        throw PhxError(kExitVmFailed, "internal error: the manifest phx wrote does not parse");
    return bytes;
}

}  // namespace phx
