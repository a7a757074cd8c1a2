// Bus scanning with a worklist of bus numbers and a visited set: no recursion, bounded by the
// 256 bus numbers there are.
#include "kernel/drivers/pci/bus.h"

namespace kernel::drivers::pci {

namespace {

constexpr uint8_t kDevicesPerBus = 32;
constexpr uint8_t kFunctionsPerDevice = 8;

struct BusQueue {
    uint8_t pending[256];
    size_t head = 0;
    size_t tail = 0;
    bool seen[256] = {};

    void push(uint8_t bus) {
        if (seen[bus]) return;
        seen[bus] = true;
        pending[tail++] = bus;  // at most 256 pushes: each bus once
    }
};

// Records the function at `address` if present; false when its slot is empty.
bool probe(Address address, FunctionList& out, BusQueue& buses, uint8_t& header) {
    uint32_t ids = read32(address, kVendorId);
    uint16_t vendor = uint16_t(ids);
    if (vendor == 0xffff || vendor == 0) return false;
    header = read8(address, kHeaderType);
    uint8_t type = header & kHeaderTypeMask;
    uint8_t secondary = 0;
    if (type == kHeaderTypeBridge) {
        secondary = read8(address, kSecondaryBus);
        if (secondary != 0) buses.push(secondary);  // 0: not numbered by the firmware
    }
    if (out.count == FunctionList::kMaxFunctions) {
        ++out.dropped;
        return true;
    }
    out.functions[out.count++] = {address, vendor, uint16_t(ids >> 16), type, secondary};
    return true;
}

void scan_bus(uint8_t bus, FunctionList& out, BusQueue& buses) {
    for (uint8_t device = 0; device < kDevicesPerBus; ++device) {
        uint8_t header = 0;
        if (!probe({bus, device, 0}, out, buses, header)) continue;
        if (!(header & kHeaderMultiFunction)) continue;
        for (uint8_t function = 1; function < kFunctionsPerDevice; ++function)
            probe({bus, device, function}, out, buses, header);
    }
}

}  // namespace

void enumerate(FunctionList& out) {
    out.count = out.dropped = 0;
    if (!config_access_present()) return;
    static BusQueue buses;  // 512 bytes: off the kernel stack
    buses = BusQueue{};
    buses.push(0);
    while (buses.head < buses.tail) scan_bus(buses.pending[buses.head++], out, buses);
}

}  // namespace kernel::drivers::pci
