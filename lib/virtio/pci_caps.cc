// The capability list walk for virtio PCI functions.
#include "lib/virtio/pci_caps.h"

#include "lib/base/checked.h"
#include "lib/virtio/pci_regs.h"

namespace lib::virtio::pci {

namespace {

// A list can hold at most this many 4-byte-aligned entries past the header; a longer walk
// is a loop.
constexpr unsigned kMaxCapabilities = (kConfigSpaceSize - kFirstCapabilityOffset) / 4;

// 4.1.4.3.1, 4.1.4.4.1, 4.1.4.5.1, 4.1.4.6.1: the alignment each structure's offset has.
uint32_t offset_alignment(uint8_t type) {
    switch (type) {
        case kCfgTypeCommon:
        case kCfgTypeDevice:
            return 4;
        case kCfgTypeNotify:
            return 2;
        default:
            return 1;
    }
}

Region* slot_for(Capabilities& caps, uint8_t type) {
    switch (type) {
        case kCfgTypeCommon:
            return &caps.common;
        case kCfgTypeNotify:
            return &caps.notify;
        case kCfgTypeIsr:
            return &caps.isr;
        case kCfgTypeDevice:
            return &caps.device;
        default:
            return nullptr;  // PCI_CFG access, shared memory, reserved: not used here
    }
}

// One vendor capability at `at` whose first word is `header`.
void take_vendor_capability(const ConfigSpace& config, uint8_t at, uint32_t header,
                            Capabilities& caps) {
    uint8_t cap_len = uint8_t(header >> 16);
    uint8_t type = uint8_t(header >> 24);
    Region* slot = slot_for(caps, type);
    if (!slot || slot->present) return;
    uint8_t needed = type == kCfgTypeNotify ? kNotifyCapSize : kCapSize;
    if (cap_len < needed || uint32_t(at) + needed > kConfigSpaceSize) return;
    uint8_t bar = uint8_t(config.read32(uint8_t(at + kCapBar)));
    if (bar > kMaxBarIndex) return;
    uint32_t offset = config.read32(uint8_t(at + kCapOffset));
    if (offset % offset_alignment(type) != 0) return;
    *slot = {true, bar, offset, config.read32(uint8_t(at + kCapLength))};
    if (type == kCfgTypeNotify)
        caps.notify_off_multiplier = config.read32(uint8_t(at + kNotifyCapMultiplier));
}

}  // namespace

Capabilities find_capabilities(const ConfigSpace& config) {
    Capabilities caps;
    uint16_t status = uint16_t(config.read32(uint8_t(kConfigStatus & ~3)) >> 16);
    if (!(status & kStatusCapabilitiesList)) return caps;
    uint8_t at = uint8_t(config.read32(kConfigCapabilitiesPointer) & 0xfc);
    for (unsigned i = 0; i < kMaxCapabilities && at >= kFirstCapabilityOffset; ++i) {
        uint32_t header = config.read32(at);
        uint8_t id = uint8_t(header);
        if (id == kCapIdVendor) take_vendor_capability(config, at, header, caps);
        if (id == kCapIdMsix) {
            uint16_t control = uint16_t(header >> 16);
            if (control & kMsixControlEnable) caps.msix_enabled = true;
            if (!caps.msix.present && uint32_t(at) + 12 <= kConfigSpaceSize) {
                uint32_t table = config.read32(uint8_t(at + 4));
                uint8_t bar = uint8_t(table & 7);
                uint16_t size = uint16_t((control & 0x7ff) + 1);
                if (bar <= kMaxBarIndex)
                    caps.msix = {true, at, size, {true, bar, table & ~7u, uint32_t(size) * 16}};
            }
        }
        at = uint8_t((header >> 8) & 0xfc);
    }
    return caps;
}

bool region_fits(const Region& region, uint64_t bar_size, uint32_t min_length) {
    return region.present && region.length >= min_length &&
           range_within(region.offset, region.length, bar_size);
}

std::optional<uint64_t> notify_offset(uint16_t queue_notify_off, uint32_t multiplier,
                                      uint64_t mapped_length) {
    uint64_t offset = uint64_t(queue_notify_off) * multiplier;  // < 2^48: no overflow
    if (!range_within(offset, 2, mapped_length)) return std::nullopt;
    return offset;
}

}  // namespace lib::virtio::pci
