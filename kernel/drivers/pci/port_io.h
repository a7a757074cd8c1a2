// The 16- and 32-bit port accessors PCI needs beside arch/x86_64/cpu.h's byte ones: the
// configuration mechanism's data port and legacy virtio-pci's I/O BAR.
#pragma once

#include <cstdint>

namespace kernel::drivers::pci {

inline uint16_t inw(uint16_t port) {
    uint16_t value;
    asm volatile("inw %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}
inline uint32_t inl(uint16_t port) {
    uint32_t value;
    asm volatile("inl %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}
inline void outw(uint16_t port, uint16_t value) {
    asm volatile("outw %0, %1" ::"a"(value), "Nd"(port));
}

}  // namespace kernel::drivers::pci
