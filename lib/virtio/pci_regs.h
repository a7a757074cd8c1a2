// virtio over PCI (virtio 1.2, 4.1): the IDs, the vendor capability that locates each modern
// structure, the modern common configuration structure and the legacy I/O register block.
// Shared by the kernel's transports (and by a VMM device model should one come). Little-endian.
#pragma once

#include <cstdint>

namespace lib::virtio::pci {

inline constexpr uint16_t kVendorId = 0x1af4;
// 4.1.2.1: a modern-only device's PCI device ID is 0x1040 + its virtio device ID; a
// transitional device has one in [0x1000, 0x103f] and its virtio device ID as the PCI
// subsystem device ID.
inline constexpr uint16_t kTransitionalIdFirst = 0x1000;
inline constexpr uint16_t kTransitionalIdLast = 0x103f;
inline constexpr uint16_t kModernIdBase = 0x1040;
inline constexpr uint16_t kModernIdLast = 0x107f;

// The virtio device ID a PCI function claims, 0 when (vendor, device) is not a virtio ID.
constexpr uint32_t device_type(uint16_t vendor_id, uint16_t device_id, uint16_t subsystem_id) {
    if (vendor_id != kVendorId) return 0;
    if (device_id >= kModernIdBase && device_id <= kModernIdLast) return device_id - kModernIdBase;
    if (device_id >= kTransitionalIdFirst && device_id <= kTransitionalIdLast) return subsystem_id;
    return 0;
}
constexpr bool is_transitional_id(uint16_t device_id) {
    return device_id >= kTransitionalIdFirst && device_id <= kTransitionalIdLast;
}

// 4.1.4: struct virtio_pci_cap, a vendor-specific capability (ID 0x09) in the standard list.
inline constexpr uint8_t kCapIdVendor = 0x09;
inline constexpr uint8_t kCapIdMsix = 0x11;
inline constexpr uint8_t kCapVndr = 0;     // u8 cap_vndr
inline constexpr uint8_t kCapNext = 1;     // u8 cap_next
inline constexpr uint8_t kCapLen = 2;      // u8 cap_len
inline constexpr uint8_t kCapCfgType = 3;  // u8 cfg_type
inline constexpr uint8_t kCapBar = 4;      // u8 bar
inline constexpr uint8_t kCapOffset = 8;   // le32 offset within the BAR
inline constexpr uint8_t kCapLength = 12;  // le32 length of the structure
inline constexpr uint8_t kCapSize = 16;
// 4.1.4.4: struct virtio_pci_notify_cap adds le32 notify_off_multiplier.
inline constexpr uint8_t kNotifyCapMultiplier = 16;
inline constexpr uint8_t kNotifyCapSize = 20;

inline constexpr uint8_t kCfgTypeCommon = 1;
inline constexpr uint8_t kCfgTypeNotify = 2;
inline constexpr uint8_t kCfgTypeIsr = 3;
inline constexpr uint8_t kCfgTypeDevice = 4;
inline constexpr uint8_t kCfgTypePci = 5;
inline constexpr uint8_t kMaxBarIndex = 5;

// 4.1.4.3: struct virtio_pci_common_cfg; each field is accessed with its own width.
namespace common {
inline constexpr uint32_t kDeviceFeatureSelect = 0x00;  // le32
inline constexpr uint32_t kDeviceFeature = 0x04;        // le32, read-only
inline constexpr uint32_t kDriverFeatureSelect = 0x08;  // le32
inline constexpr uint32_t kDriverFeature = 0x0c;        // le32
inline constexpr uint32_t kConfigMsixVector = 0x10;     // le16
inline constexpr uint32_t kNumQueues = 0x12;            // le16, read-only
inline constexpr uint32_t kDeviceStatus = 0x14;         // u8
inline constexpr uint32_t kConfigGeneration = 0x15;     // u8, read-only
inline constexpr uint32_t kQueueSelect = 0x16;          // le16
inline constexpr uint32_t kQueueSize = 0x18;            // le16
inline constexpr uint32_t kQueueMsixVector = 0x1a;      // le16
inline constexpr uint32_t kQueueEnable = 0x1c;          // le16
inline constexpr uint32_t kQueueNotifyOff = 0x1e;       // le16, read-only
inline constexpr uint32_t kQueueDesc = 0x20;            // le64
inline constexpr uint32_t kQueueDriver = 0x28;          // le64
inline constexpr uint32_t kQueueDevice = 0x30;          // le64
// The bytes a driver that uses every field above needs (virtio 1.0's whole structure).
inline constexpr uint32_t kMinLength = 0x38;
}  // namespace common

// The legacy interface (4.1.4.10): one I/O BAR 0 holding these registers, then the device
// configuration at kConfig (kConfigWithMsix while MSI-X is enabled).
namespace legacy {
inline constexpr uint16_t kDeviceFeatures = 0x00;  // le32, bits 0-31 only
inline constexpr uint16_t kDriverFeatures = 0x04;  // le32
inline constexpr uint16_t kQueueAddress = 0x08;    // le32: the ring's physical page number
inline constexpr uint16_t kQueueSize = 0x0c;       // le16, read-only: the driver cannot choose
inline constexpr uint16_t kQueueSelect = 0x0e;     // le16
inline constexpr uint16_t kQueueNotify = 0x10;     // le16
inline constexpr uint16_t kDeviceStatus = 0x12;    // u8
inline constexpr uint16_t kIsrStatus = 0x13;       // u8, read clears
inline constexpr uint16_t kConfig = 0x14;
inline constexpr uint16_t kConfigWithMsix = 0x18;
// The queue address register counts pages of this size (4.1.5.1.3.1 legacy).
inline constexpr uint32_t kQueueAddressShift = 12;
}  // namespace legacy

}  // namespace lib::virtio::pci
