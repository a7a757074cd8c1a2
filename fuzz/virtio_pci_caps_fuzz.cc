// Fuzzes lib/virtio/pci_caps: the capability walk over an arbitrary 256-byte configuration
// space (input shorter than that is zero-padded), and the BAR and notify bounds over numbers
// taken from the input's tail. The walk must read only aligned words inside the space, a
// bounded number of times, and report only regions its own checks allow.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lib/virtio/pci_caps.h"
#include "lib/virtio/pci_regs.h"

using namespace lib::virtio::pci;

namespace {

#define FUZZ_CHECK(condition)               \
    do {                                    \
        if (!(condition)) __builtin_trap(); \
    } while (0)

class Space final : public ConfigSpace {
public:
    uint32_t read32(uint8_t offset) const override {
        FUZZ_CHECK(offset % 4 == 0);
        ++reads;
        uint32_t v;
        std::memcpy(&v, bytes + offset, 4);
        return v;
    }
    uint8_t bytes[kConfigSpaceSize] = {};
    mutable unsigned reads = 0;
};

void check_region(const Region& r, uint32_t alignment) {
    if (!r.present) return;
    FUZZ_CHECK(r.bar <= kMaxBarIndex);
    FUZZ_CHECK(r.offset % alignment == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Space space;
    std::memcpy(space.bytes, data, size < sizeof(space.bytes) ? size : sizeof(space.bytes));
    Capabilities caps = find_capabilities(space);
    // Status and pointer, then per entry a header and at most four more words.
    FUZZ_CHECK(space.reads <= 2 + 48 * 5);
    check_region(caps.common, 4);
    check_region(caps.notify, 2);
    check_region(caps.isr, 1);
    check_region(caps.device, 4);

    uint64_t bar_size = 0;
    uint16_t notify_off = 0;
    if (size >= sizeof(space.bytes) + 10) {
        std::memcpy(&bar_size, data + sizeof(space.bytes), 8);
        std::memcpy(&notify_off, data + sizeof(space.bytes) + 8, 2);
    }
    for (const Region* r : {&caps.common, &caps.notify, &caps.isr, &caps.device})
        if (region_fits(*r, bar_size, 0)) FUZZ_CHECK(uint64_t(r->offset) + r->length <= bar_size);
    if (auto offset = notify_offset(notify_off, caps.notify_off_multiplier, caps.notify.length))
        FUZZ_CHECK(*offset + 2 <= caps.notify.length);
    return 0;
}
