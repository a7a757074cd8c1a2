// Fuzzes lib/manifest: Manifest::parse on arbitrary bytes, every accessor on what it accepts,
// and a round trip through ManifestWriter that must parse back to the same records.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "lib/manifest/manifest.h"
#include "lib/manifest/manifest_writer.h"

using namespace lib::manifest;

namespace {

#define FUZZ_CHECK(condition)               \
    do {                                    \
        if (!(condition)) __builtin_trap(); \
    } while (0)

constexpr RecordType kTypes[] = {RecordType::Program,      RecordType::Arg,
                                 RecordType::Env,          RecordType::DebugFlag,
                                 RecordType::ProgramImage, RecordType::Option};

// Rewrites every record with ManifestWriter, grouped by type (order within a type kept).
std::vector<std::byte> rewrite(const Manifest& m) {
    ManifestWriter writer;
    for (RecordType type : kTypes)
        m.for_each(type, [&](const Record& r) { writer.add_bytes(r.type, r.payload); });
    return writer.finish();
}

void exercise(const Manifest& m) {
    size_t total = 0;
    for (RecordType type : kTypes) {
        size_t n = 0;
        m.for_each(type, [&](const Record& r) {
            FUZZ_CHECK(r.type == type);
            if (is_text(type))
                for (char c : r.text()) FUZZ_CHECK(c != '\0');
            ++n;
        });
        FUZZ_CHECK(n == m.count(type));
        total += n;
    }
    FUZZ_CHECK(total == m.record_count());
    FUZZ_CHECK(m.count(RecordType::Program) == 1 && !m.program().empty());
    FUZZ_CHECK(m.count(RecordType::ProgramImage) <= 1);
    (void)m.has_debug_flag("trace");
    std::string_view value;
    if (m.option("mem", value)) FUZZ_CHECK(value.data() != nullptr);

    auto again_bytes = rewrite(m);
    auto again = Manifest::parse(again_bytes);
    FUZZ_CHECK(!again.is_error());
    FUZZ_CHECK(again.value().record_count() == m.record_count());
    FUZZ_CHECK(again.value().program() == m.program());
    FUZZ_CHECK(again.value().program_image().size() == m.program_image().size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto manifest = Manifest::parse({reinterpret_cast<const std::byte*>(data), size});
    if (!manifest.is_error()) exercise(manifest.value());
    return 0;
}
