// PCI configuration space through configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2):
// the address at port 0xcf8, the data at 0xcfc. 256 bytes per function, all this kernel
// reads; no ACPI MCFG (extended configuration space) needed. Boot time only, one CPU:
// FIXME(#5) a lock once anything else can touch the address port.
#pragma once

#include <cstdint>

namespace kernel::drivers::pci {

struct Address {
    uint8_t bus = 0;
    uint8_t device = 0;    // 0..31
    uint8_t function = 0;  // 0..7
};

// Type 0 and type 1 header fields (PCI Local Bus 3.0, 6.1; PCI-PCI bridge 1.2, 3.2).
inline constexpr uint8_t kVendorId = 0x00;
inline constexpr uint8_t kDeviceId = 0x02;
inline constexpr uint8_t kCommand = 0x04;
inline constexpr uint8_t kHeaderType = 0x0e;
inline constexpr uint8_t kBar0 = 0x10;
inline constexpr uint8_t kSubsystemId = 0x2e;
// Type 1 (bridge) fields.
inline constexpr uint8_t kSecondaryBus = 0x19;
inline constexpr uint8_t kIoBase = 0x1c;  // u8 I/O base, then u8 I/O limit
inline constexpr uint8_t kMemoryBase = 0x20;
inline constexpr uint8_t kMemoryLimit = 0x22;
inline constexpr uint8_t kPrefetchableBase = 0x24;
inline constexpr uint8_t kPrefetchableLimit = 0x26;
inline constexpr uint8_t kPrefetchableBaseUpper = 0x28;
inline constexpr uint8_t kPrefetchableLimitUpper = 0x2c;

inline constexpr uint8_t kHeaderTypeMask = 0x7f;
inline constexpr uint8_t kHeaderMultiFunction = 0x80;
inline constexpr uint8_t kHeaderTypeDevice = 0;
inline constexpr uint8_t kHeaderTypeBridge = 1;

inline constexpr uint16_t kCommandIo = 1u << 0;
inline constexpr uint16_t kCommandMemory = 1u << 1;
inline constexpr uint16_t kCommandBusMaster = 1u << 2;
inline constexpr uint16_t kCommandIntxDisable = 1u << 10;

// Whether configuration mechanism #1 is there: the address port reads back what was
// written (Linux's pci_check_type1). Machines without PCI (microvm, Phoenix's VMM) answer
// all ones. Two port accesses.
bool config_access_present();

// `offset` is rounded down to the access width.
uint32_t read32(Address address, uint8_t offset);
uint16_t read16(Address address, uint8_t offset);
uint8_t read8(Address address, uint8_t offset);
void write32(Address address, uint8_t offset, uint32_t value);
void write16(Address address, uint8_t offset, uint16_t value);

}  // namespace kernel::drivers::pci
