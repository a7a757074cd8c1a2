// Finding PCI functions: bus 0, then the secondary bus of every PCI-PCI bridge found, as the
// firmware numbered them (a bridge it left unnumbered is not followed). Each bus is scanned
// once, so bridges that name buses in a loop cost nothing more.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernel/drivers/pci/config.h"

namespace kernel::drivers::pci {

struct Function {
    Address address;
    uint16_t vendor_id = 0;
    uint16_t device_id = 0;
    uint8_t header_type = 0;    // without the multi-function bit
    uint8_t secondary_bus = 0;  // bridges: the bus behind them (0: not numbered)
};

struct FunctionList {
    static constexpr size_t kMaxFunctions = 64;
    Function functions[kMaxFunctions];
    size_t count = 0;
    size_t dropped = 0;  // found beyond kMaxFunctions
};

// Every function present; an empty list without configuration mechanism #1. About two port
// accesses per empty slot, so a bus costs about 64.
void enumerate(FunctionList& out);

}  // namespace kernel::drivers::pci
