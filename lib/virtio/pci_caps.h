// Where a virtio PCI function keeps its modern structures (virtio 1.2, 4.1.4): found in the
// standard capability list, which the device writes. Every pointer, length, BAR index and
// alignment is checked, and a list that loops ends after as many entries as the
// configuration space can hold. What the BARs themselves hold is the caller's to check
// (region_fits, notify_offset).
#pragma once

#include <cstdint>
#include <optional>

namespace lib::virtio::pci {

// PCI configuration header fields the walk reads (PCI Local Bus 3.0, 6.1 and 6.7).
inline constexpr uint8_t kConfigStatus = 0x06;
inline constexpr uint16_t kStatusCapabilitiesList = 1u << 4;
inline constexpr uint8_t kConfigCapabilitiesPointer = 0x34;
inline constexpr uint8_t kFirstCapabilityOffset = 0x40;  // below: the standard header
inline constexpr uint16_t kConfigSpaceSize = 256;
inline constexpr uint16_t kMsixControlEnable = 1u << 15;

// One function's 256-byte configuration space, as the walk reads it.
class ConfigSpace {
public:
    // The 32-bit word at `offset`, a multiple of 4 below kConfigSpaceSize.
    virtual uint32_t read32(uint8_t offset) const = 0;

protected:
    ~ConfigSpace() = default;
};

// A structure inside one of the function's BARs.
struct Region {
    bool present = false;
    uint8_t bar = 0;  // 0..5
    uint32_t offset = 0;
    uint32_t length = 0;
};

struct Capabilities {
    Region common;
    Region notify;
    Region isr;
    Region device;  // absent for devices with no configuration (virtio-rng)
    uint32_t notify_off_multiplier = 0;
    // MSI-X is enabled: a legacy device then moves its configuration (4.1.4.10).
    bool msix_enabled = false;
    // The MSI-X capability (PCI 3.0, 6.8.2): where it sits in configuration space, how many
    // table entries, and the table inside a BAR (16 bytes per entry).
    struct Msix {
        bool present = false;
        uint8_t capability = 0;  // config-space offset of the capability
        uint16_t table_size = 0;
        Region table;
    } msix;

    // 4.1.4.3-4.1.4.5: a modern driver needs the common, notify and ISR structures.
    bool modern() const { return common.present && notify.present && isr.present; }
};

// Walks the capability list: for each virtio structure type the first well-formed instance
// (4.1.4.1: cap_len covers the structure, bar 0..5, offset aligned as the type requires),
// and the MSI-X enable bit. Reserved types, and instances after the first, are ignored.
Capabilities find_capabilities(const ConfigSpace& config);

// Whether `region` lies inside a BAR of `bar_size` bytes and holds at least `min_length`.
bool region_fits(const Region& region, uint64_t bar_size, uint32_t min_length);

// 4.1.4.4: the offset of a queue's notification address within the notify structure,
// queue_notify_off * notify_off_multiplier; nullopt unless a 16-bit write there stays
// within the first `mapped_length` bytes of the structure.
std::optional<uint64_t> notify_offset(uint16_t queue_notify_off, uint32_t multiplier,
                                      uint64_t mapped_length);

}  // namespace lib::virtio::pci
