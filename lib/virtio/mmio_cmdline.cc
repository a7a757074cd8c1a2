// Parsing of `virtio_mmio.device=` words: every number checked for digits and overflow, and
// nothing may trail the last field.
#include "lib/virtio/mmio_cmdline.h"

#include "lib/base/checked.h"
#include "lib/base/cmdline.h"

namespace lib::virtio {

namespace {

int digit_value(char c, unsigned radix) {
    int value = -1;
    if (c >= '0' && c <= '9') value = c - '0';
    if (c >= 'a' && c <= 'f') value = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') value = c - 'A' + 10;
    return value >= 0 && unsigned(value) < radix ? value : -1;
}

// Reads one number in `radix` from the front of `text` and drops it from `text`. At least one
// digit is required.
Result<uint64_t> take_number(std::string_view& text, unsigned radix) {
    uint64_t value = 0;
    size_t used = 0;
    while (used < text.size()) {
        int digit = digit_value(text[used], radix);
        if (digit < 0) break;
        auto scaled = checked_mul<uint64_t>(value, radix);
        if (!scaled) return Errno::Overflow;
        auto sum = checked_add<uint64_t>(*scaled, uint64_t(digit));
        if (!sum) return Errno::Overflow;
        value = *sum;
        ++used;
    }
    if (used == 0) return Errno::Inval;
    text.remove_prefix(used);
    return value;
}

// `0x` hex or decimal, as Linux's %lli reads it (minus octal, which no hypervisor writes).
Result<uint64_t> take_address(std::string_view& text) {
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        text.remove_prefix(2);
        return take_number(text, 16);
    }
    return take_number(text, 10);
}

// A number with an optional K/M/G suffix (Linux's memparse, minus the suffixes past G).
Result<uint64_t> take_size(std::string_view& text) {
    uint64_t size = TRY(take_address(text));
    unsigned shift = 0;
    if (!text.empty()) {
        char lower = char(text[0] | 0x20);
        shift = lower == 'k' ? 10 : lower == 'm' ? 20 : lower == 'g' ? 30 : 0;
        if (shift) text.remove_prefix(1);
    }
    if (shift && size > (UINT64_MAX >> shift)) return Errno::Overflow;
    return size << shift;
}

bool take_char(std::string_view& text, char c) {
    if (text.empty() || text[0] != c) return false;
    text.remove_prefix(1);
    return true;
}

bool overlaps(const MmioWindow& a, const MmioWindow& b) {
    // parse_mmio_device guarantees base + size does not wrap.
    return a.base < b.base + b.size && b.base < a.base + a.size;
}

}  // namespace

Result<MmioWindow> parse_mmio_device(std::string_view value) {
    MmioWindow window;
    window.size = TRY(take_size(value));
    if (window.size == 0 || !take_char(value, '@')) return Errno::Inval;
    window.base = TRY(take_address(value));
    if (!take_char(value, ':')) return Errno::Inval;
    uint64_t irq = TRY(take_number(value, 10));
    if (irq > UINT32_MAX) return Errno::Overflow;
    window.irq = uint32_t(irq);
    if (take_char(value, ':')) (void)TRY(take_number(value, 10));  // platform device id: unused
    if (!value.empty()) return Errno::Inval;
    if (!checked_add<uint64_t>(window.base, window.size)) return Errno::Overflow;
    return window;
}

MmioDeviceList parse_mmio_devices(std::string_view cmdline) {
    MmioDeviceList list;
    auto reject = [&](std::string_view value, Errno error) {
        if (list.rejected++ == 0) {
            list.first_rejected = value;
            list.first_error = error;
        }
    };
    Cmdline(cmdline).for_each([&](const CmdlineWord& word) {
        if (word.key != kMmioDeviceKey) return;
        auto window = parse_mmio_device(word.value);
        if (window.is_error()) return reject(word.value, window.error());
        for (const MmioWindow& earlier : list.devices())
            if (overlaps(earlier, window.value())) return reject(word.value, Errno::Exist);
        if (list.count == kMaxMmioDevices) {
            ++list.dropped;
            return;
        }
        list.windows[list.count++] = window.value();
    });
    return list;
}

}  // namespace lib::virtio
