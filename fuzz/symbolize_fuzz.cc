// Fuzzes the crash-report symbolizer: ElfSymbolizer::parse over arbitrary files and locate()
// at offsets drawn from the input, then demangle() over every name it returns and over the
// input itself as a name. Checks the promises (names inside the file, offsets inside the
// symbol, demangled text inside the buffer); the sanitizers check every read.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "lib/elf/demangle.h"
#include "lib/elf/symbolize.h"

using namespace lib::elf;

namespace {

#define FUZZ_CHECK(condition)               \
    do {                                    \
        if (!(condition)) __builtin_trap(); \
    } while (0)

void check_demangle(std::string_view name) {
    char buffer[128];
    std::string_view out = demangle(name, buffer);
    bool inside = out.data() >= buffer && out.data() + out.size() <= buffer + sizeof(buffer);
    FUZZ_CHECK(out == name || inside);
    unsigned sum = 0;
    for (char c : out) sum += unsigned(c);
    (void)sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::span<const std::byte> file(reinterpret_cast<const std::byte*>(data), size);
    check_demangle({reinterpret_cast<const char*>(data), size < 512 ? size : 512});
    auto parsed = ElfSymbolizer::parse(file);
    if (parsed.is_error()) return 0;
    const ElfSymbolizer& symbolizer = parsed.value();
    // Offsets: every 8 bytes of the input's tail, plus the edges.
    uint64_t offsets[SymbolTable::kMaxBatch + 4] = {0, size ? size - 1 : 0, size, UINT64_MAX};
    size_t count = 4;
    for (size_t at = size > 512 ? size - 512 : 0;
         at + 8 <= size && count < SymbolTable::kMaxBatch + 4; at += 8, ++count)
        std::memcpy(&offsets[count], data + at, 8);
    std::optional<FileLocation> out[SymbolTable::kMaxBatch + 4];
    symbolizer.locate({offsets, count}, out);
    for (size_t i = 0; i < count; ++i) {
        if (i >= SymbolTable::kMaxBatch) FUZZ_CHECK(!out[i]);
        if (!out[i]) continue;
        FUZZ_CHECK(symbolizer.vaddr_of(offsets[i]) == out[i]->vaddr);
        if (!out[i]->symbol) continue;
        const Symbol& s = *out[i]->symbol;
        const char* begin = reinterpret_cast<const char*>(data);
        FUZZ_CHECK(s.name.data() >= begin && s.name.data() + s.name.size() <= begin + size);
        FUZZ_CHECK(s.start <= out[i]->vaddr);
        check_demangle(s.name);
    }
    return 0;
}
