// Configuration mechanism #1: one address write, then the data port at the byte offset.
#include "kernel/drivers/pci/config.h"

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/drivers/pci/port_io.h"

namespace kernel::drivers::pci {

namespace {

constexpr uint16_t kAddressPort = 0xcf8;
constexpr uint16_t kDataPort = 0xcfc;
constexpr uint32_t kEnable = 1u << 31;

void select(Address address, uint8_t offset) {
    uint32_t word = kEnable | uint32_t(address.bus) << 16 | uint32_t(address.device & 31) << 11 |
                    uint32_t(address.function & 7) << 8 | (offset & 0xfcu);
    arch::outl(kAddressPort, word);
}

}  // namespace

bool config_access_present() {
    arch::outl(kAddressPort, kEnable);
    return inl(kAddressPort) == kEnable;
}

uint32_t read32(Address address, uint8_t offset) {
    select(address, offset);
    return inl(kDataPort);
}

uint16_t read16(Address address, uint8_t offset) {
    select(address, offset);
    return inw(uint16_t(kDataPort + (offset & 2)));
}

uint8_t read8(Address address, uint8_t offset) {
    select(address, offset);
    return arch::inb(uint16_t(kDataPort + (offset & 3)));
}

void write32(Address address, uint8_t offset, uint32_t value) {
    select(address, offset);
    arch::outl(kDataPort, value);
}

void write16(Address address, uint8_t offset, uint16_t value) {
    select(address, offset);
    outw(uint16_t(kDataPort + (offset & 2)), value);
}

}  // namespace kernel::drivers::pci
