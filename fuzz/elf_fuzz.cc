// Fuzzes lib/elf with arbitrary files: ElfImage::parse and every accessor, SymbolTable::parse
// and lookups, and build_initial_stack fed with strings cut from the input. Checks invariants
// the parsers promise; the sanitizers check every byte read stays inside the input.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "lib/elf/elf.h"
#include "lib/elf/initial_stack.h"
#include "lib/elf/symbol_table.h"

using namespace lib::elf;

namespace {

#define FUZZ_CHECK(condition)               \
    do {                                    \
        if (!(condition)) __builtin_trap(); \
    } while (0)

// Reads every byte of a span, so ASan checks the whole range really lies in the input.
unsigned touch(std::span<const std::byte> bytes) {
    unsigned sum = 0;
    for (std::byte b : bytes) sum += unsigned(b);
    return sum;
}

void exercise_image(const ElfImage& image) {
    FUZZ_CHECK(image.type() == ET_EXEC || image.type() == ET_DYN);
    FUZZ_CHECK(image.program_headers().size() == image.phnum());
    LoadBounds bounds = image.load_bounds();
    FUZZ_CHECK(bounds.start < bounds.end && bounds.end <= kUserAddressLimit);
    FUZZ_CHECK(bounds.start % kPageSize == 0 && bounds.end % kPageSize == 0);
    FUZZ_CHECK(image.entry() >= bounds.start && image.entry() < bounds.end);
    unsigned sum = 0;
    for (Elf64_Phdr p : image.program_headers()) {
        if (p.p_type != PT_LOAD && p.p_type != PT_TLS) continue;
        auto bytes = image.file_bytes(p);
        FUZZ_CHECK(bytes.has_value() && p.p_filesz <= p.p_memsz);
        sum += touch(*bytes);
        if (p.p_type == PT_LOAD && p.p_memsz)
            FUZZ_CHECK(p.p_vaddr >= bounds.start && p.p_vaddr + p.p_memsz <= bounds.end);
    }
    if (auto interp = image.interpreter()) {
        FUZZ_CHECK(!interp->empty() && interp->size() < kMaxInterpreterSize);
        for (char c : *interp) FUZZ_CHECK(c != '\0');
    }
    FUZZ_CHECK(image.is_dynamically_linked() == image.interpreter().has_value());
    (void)image.has_dynamic();
    (void)image.tls();
    (void)image.executable_stack();
    (void)image.phdr_vaddr();
    (void)sum;
}

void exercise_symbols(const SymbolTable& table, const ElfImage* image) {
    uint64_t probes = 0;
    table.for_each([&](const Symbol& s) {
        FUZZ_CHECK(!s.name.empty());
        // Bounded work: a huge table must not make one input take seconds.
        if (++probes > 256) return;
        for (uint64_t address : {s.start, s.start + s.size - 1, s.start + s.size}) {
            if (auto hit = table.lookup(address)) {
                FUZZ_CHECK(hit->start <= address && !hit->name.empty());
                FUZZ_CHECK(hit->size == 0 || hit->offset_of(address) < hit->size);
            }
        }
    });
    if (image) (void)table.lookup(image->entry());
    (void)table.lookup(0);
    (void)table.lookup(UINT64_MAX);
    (void)table.find("main");
}

// argv/envp cut from the input at '\n' (NUL bytes left in, so that rejection is covered too).
void exercise_initial_stack(std::string_view text) {
    std::string_view pieces[16];
    size_t count = 0;
    while (!text.empty() && count < 16) {
        size_t cut = text.find('\n');
        pieces[count++] = text.substr(0, cut);
        text = cut == std::string_view::npos ? std::string_view{} : text.substr(cut + 1);
    }
    size_t argc = count / 2;
    std::byte random[16] = {};
    const AuxEntry aux[] = {{AT_PAGESZ, kPageSize}, {AT_ENTRY, 0x401000}};
    InitialStackSpec spec{std::span<const std::string_view>(pieces, argc),
                          std::span<const std::string_view>(pieces + argc, count - argc),
                          aux,
                          count ? pieces[0] : "",
                          "x86_64",
                          std::span<const std::byte, 16>(random)};
    static std::byte buffer[4096];
    uint64_t top = 0x7ffffffff000 - (text.size() & 31);
    auto rsp = build_initial_stack(buffer, top, spec);
    if (!rsp.is_error()) FUZZ_CHECK(rsp.value() % 16 == 0 && top - rsp.value() <= sizeof(buffer));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::span<const std::byte> file(reinterpret_cast<const std::byte*>(data), size);
    auto image = ElfImage::parse(file);
    if (image.is_error())
        FUZZ_CHECK(describe(image.error())[0] != '\0');
    else
        exercise_image(image.value());
    auto symbols = SymbolTable::parse(file);
    if (!symbols.is_error())
        exercise_symbols(symbols.value(), image.is_error() ? nullptr : &image.value());
    exercise_initial_stack({reinterpret_cast<const char*>(data), size < 1024 ? size : 1024});
    return 0;
}
