// The cache's layout: a 48-byte header, 24-byte entries, then the strings; every string is an
// offset from the start of the file. Little-endian, as the x86-64 loader checks.
#include "phx/image/ld_so_cache.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <set>

namespace phx {

namespace {

constexpr char kMagic[] = "glibc-ld.so.cache1.1";  // CACHEMAGIC_NEW, then CACHE_VERSION
constexpr size_t kHeaderSize = 48;
constexpr size_t kEntrySize = 24;
constexpr int32_t kFlagsX8664Libc6 = 0x0303;  // FLAG_X8664_LIB64 | FLAG_ELF_LIBC6
constexpr uint8_t kEndianLittle = 2;          // cache_file_new_flags_endian_little

bool is_digit(char c) { return c >= '0' && c <= '9'; }

void put32(std::vector<std::byte>& out, size_t at, uint32_t value) {
    for (int i = 0; i < 4; ++i) out[at + i] = std::byte(value >> (8 * i));
}

}  // namespace

int ld_cache_compare(const std::string& a, const std::string& b) {
    size_t i = 0, j = 0;
    while (i < a.size()) {
        if (is_digit(a[i])) {
            if (j >= b.size() || !is_digit(b[j])) return 1;
            uint64_t x = 0, y = 0;
            while (i < a.size() && is_digit(a[i]) && x < (1ull << 40))
                x = x * 10 + uint64_t(a[i++] - '0');
            while (j < b.size() && is_digit(b[j]) && y < (1ull << 40))
                y = y * 10 + uint64_t(b[j++] - '0');
            if (x != y) return x < y ? -1 : 1;
        } else if (j < b.size() && is_digit(b[j])) {
            return -1;
        } else if (j >= b.size() || a[i] != b[j]) {
            return j >= b.size() ? 1 : (int(a[i]) < int(b[j]) ? -1 : 1);  // char is signed on x86
        } else {
            ++i;
            ++j;
        }
    }
    return j < b.size() ? -1 : 0;
}

std::vector<std::byte> build_ld_so_cache(std::vector<LdCacheEntry> entries) {
    std::set<std::string> seen;
    std::vector<LdCacheEntry> unique;
    for (auto& entry : entries)
        if (seen.insert(entry.name).second) unique.push_back(std::move(entry));
    // ldconfig's order (elf/cache.c compares with the arguments swapped): descending.
    std::stable_sort(unique.begin(), unique.end(),
                     [](const LdCacheEntry& a, const LdCacheEntry& b) {
                         return ld_cache_compare(a.name, b.name) > 0;
                     });

    size_t strings_at = kHeaderSize + unique.size() * kEntrySize;
    std::vector<std::byte> out(strings_at);
    std::memcpy(out.data(), kMagic, sizeof(kMagic) - 1);
    put32(out, 20, uint32_t(unique.size()));
    out[28] = std::byte(kEndianLittle);  // extension_offset (32) and the rest stay zero
    auto add_string = [&](const std::string& text) {
        uint32_t offset = uint32_t(out.size());
        for (char c : text) out.push_back(std::byte(c));
        out.push_back(std::byte(0));
        return offset;
    };
    for (size_t i = 0; i < unique.size(); ++i) {
        size_t at = kHeaderSize + i * kEntrySize;
        put32(out, at, uint32_t(kFlagsX8664Libc6));
        put32(out, at + 4, add_string(unique[i].name));
        put32(out, at + 8, add_string(unique[i].path));
        // osversion (at + 12) and hwcap (at + 16) stay zero.
    }
    put32(out, 24, uint32_t(out.size() - strings_at));
    return out;
}

}  // namespace phx
