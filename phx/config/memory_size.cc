// Parser for -m: digits, an optional fraction, an optional binary suffix.
#include "phx/config/memory_size.h"

#include <string>

#include "phx/error.h"

namespace phx {

namespace {

[[noreturn]] void reject(std::string_view text, std::string_view why) {
    throw PhxError(kExitUsage, "-m " + std::string(text) + ": " + std::string(why));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Bytes per unit for a suffix letter; 0 when the letter is not a suffix.
uint64_t unit_bytes(char letter) {
    switch (letter) {
        case 'k':
        case 'K':
            return uint64_t(1) << 10;
        case 'm':
        case 'M':
            return uint64_t(1) << 20;
        case 'g':
        case 'G':
            return uint64_t(1) << 30;
        case 't':
        case 'T':
            return uint64_t(1) << 40;
    }
    return 0;
}

}  // namespace

uint64_t parse_memory_mib(std::string_view text) {
    constexpr std::string_view kExpected = "expected a size like 512M, 2G or 1024 (MiB)";
    size_t i = 0;
    uint64_t whole = 0;
    // 7 digits are enough for anything up to the 1 TiB limit in any unit, and cannot overflow.
    for (; i < text.size() && is_digit(text[i]); ++i) {
        if (i >= 7) reject(text, "too large; at most 1T");
        whole = whole * 10 + uint64_t(text[i] - '0');
    }
    if (i == 0) reject(text, kExpected);
    uint64_t fraction = 0, fraction_scale = 1;
    if (i < text.size() && text[i] == '.') {
        size_t start = ++i;
        for (; i < text.size() && is_digit(text[i]); ++i) {
            if (i - start >= 6) reject(text, "too many decimals");
            fraction = fraction * 10 + uint64_t(text[i] - '0');
            fraction_scale *= 10;
        }
        if (i == start) reject(text, kExpected);
    }
    uint64_t unit = uint64_t(1) << 20;  // QEMU: a bare number is MiB
    if (i < text.size()) {
        unit = unit_bytes(text[i++]);
        if (unit == 0) reject(text, kExpected);
        std::string_view rest = text.substr(i);
        if (!rest.empty() && rest != "B" && rest != "iB") reject(text, kExpected);
    }
    // whole < 10^7 and unit <= 2^40 would overflow 64 bits: check against the limit first.
    if (whole > (kMaxMemoryMib << 20) / unit) reject(text, "too large; at most 1T");
    // unit <= 2^40 and fraction < 10^6 < 2^20: the product fits in 64 bits.
    uint64_t fraction_bytes = unit * fraction;
    if (fraction_bytes % fraction_scale != 0) reject(text, "not a whole number of MiB");
    uint64_t bytes = whole * unit + fraction_bytes / fraction_scale;
    if (bytes % (uint64_t(1) << 20) != 0) reject(text, "not a whole number of MiB");
    uint64_t mib = bytes >> 20;
    if (mib < kMinMemoryMib) reject(text, "at least 64M is needed");
    if (mib > kMaxMemoryMib) reject(text, "too large; at most 1T");
    return mib;
}

}  // namespace phx
