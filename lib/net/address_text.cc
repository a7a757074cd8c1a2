// Dotted-quad IPv4 text.
#include "lib/net/address_text.h"

namespace lib::net {

std::optional<Ipv4Address> parse_ipv4(std::string_view text) {
    uint32_t value = 0;
    int parts = 0;
    size_t i = 0;
    while (parts < 4) {
        size_t start = i;
        uint32_t part = 0;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 3)
            part = part * 10 + uint32_t(text[i++] - '0');
        size_t digits = i - start;
        if (digits == 0 || part > 255 || (digits > 1 && text[start] == '0')) return std::nullopt;
        value = value << 8 | part;
        ++parts;
        if (parts < 4) {
            if (i >= text.size() || text[i] != '.') return std::nullopt;
            ++i;
        }
    }
    if (i != text.size()) return std::nullopt;
    return Ipv4Address{value};
}

std::optional<uint8_t> netmask_prefix(Ipv4Address mask) {
    uint32_t inverted = ~mask.value;
    if (inverted & (inverted + 1)) return std::nullopt;  // ones must be contiguous from the top
    uint8_t host_bits = 0;  // no __builtin_popcount: the freestanding build has no libgcc
    for (; inverted; inverted >>= 1) ++host_bits;
    return uint8_t(32 - host_bits);
}

void format_ipv4(FormatSink& out, Ipv4Address address) {
    format_to(out, "{}.{}.{}.{}", address.value >> 24, (address.value >> 16) & 0xff,
              (address.value >> 8) & 0xff, address.value & 0xff);
}

}  // namespace lib::net
