// The boot-time BAR allocator: bump pointers over fixed windows, one more per bridge.
#include "kernel/drivers/pci/resources.h"

#include "lib/base/checked.h"

namespace kernel::drivers::pci {

namespace {

constexpr uint64_t kMemoryWindowBase = 0xc000'0000;  // above q35's MMCONFIG at 0xb0000000
constexpr uint64_t kMemoryWindowEnd = 0xfec0'0000;   // the I/O APIC, HPET, local APIC above
constexpr uint64_t kIoWindowBase = 0xc000;
constexpr uint64_t kIoWindowEnd = 0x1'0000;
// Memory forwarded to the bus behind each bridge: plenty for virtio's few KiB of BARs, and a
// multiple of the 1 MiB granularity of bridge windows (PCI-PCI bridge 1.2, 3.2.5.8).
constexpr uint64_t kBridgeWindow = 16ull << 20;

struct Window {
    uint64_t next = 0;
    uint64_t end = 0;  // 0: not set up
};

// Boot time only, one CPU.
Window g_memory{kMemoryWindowBase, kMemoryWindowEnd};
Window g_io{kIoWindowBase, kIoWindowEnd};
Window g_behind_bridge[256];  // by bus number

lib::Result<uint64_t> take(Window& window, uint64_t size, std::span<const mm::PhysRange> ram) {
    auto base = lib::align_up(window.next, size);
    if (!base || *base > window.end || size > window.end - *base) return lib::Errno::NoSpc;
    if (overlaps_ram(*base, size, ram)) return lib::Errno::NoSpc;
    window.next = *base + size;
    return *base;
}

// The bridge on bus 0 that leads to `bus`, the first found (the one enumeration followed).
const Function* bridge_to(const FunctionList& functions, uint8_t bus) {
    for (size_t i = 0; i < functions.count; ++i) {
        const Function& f = functions.functions[i];
        if (f.header_type == kHeaderTypeBridge && f.secondary_bus == bus) {
            if (f.address.bus != 0) return nullptr;
            return &f;
        }
    }
    return nullptr;
}

// PCI-PCI bridge 1.2, 3.2.5.8: the memory window's base and limit registers hold address
// bits 31:20; the prefetchable and I/O windows are closed (base above limit).
void open_bridge(Address bridge, uint64_t base, uint64_t size) {
    write16(bridge, kMemoryBase, uint16_t((base >> 16) & 0xfff0));
    write16(bridge, kMemoryLimit, uint16_t(((base + size - 1) >> 16) & 0xfff0));
    write16(bridge, kPrefetchableBase, 0xfff0);
    write16(bridge, kPrefetchableLimit, 0);
    write32(bridge, kPrefetchableBaseUpper, 0);
    write32(bridge, kPrefetchableLimitUpper, 0);
    write16(bridge, kIoBase, 0x00f0);
    // Memory forwarding down, and the devices' DMA up.
    enable(bridge, kCommandMemory | kCommandBusMaster);
}

lib::Result<Window*> window_behind_bridge(const FunctionList& functions, uint8_t bus,
                                          std::span<const mm::PhysRange> ram) {
    Window& window = g_behind_bridge[bus];
    if (window.end) return &window;
    const Function* bridge = bridge_to(functions, bus);
    if (!bridge) return lib::Errno::OpNotSupp;  // behind more than one bridge
    uint16_t base_register = read16(bridge->address, kMemoryBase);
    uint16_t limit_register = read16(bridge->address, kMemoryLimit);
    if ((base_register | limit_register) != 0 && base_register <= limit_register)
        return lib::Errno::OpNotSupp;  // the firmware set a window: its layout is unknown
    uint64_t base = TRY(take(g_memory, kBridgeWindow, ram));
    open_bridge(bridge->address, base, kBridgeWindow);
    window = {base, base + kBridgeWindow};
    return &window;
}

}  // namespace

lib::ErrorOr assign_bar(const FunctionList& functions, Address address, uint8_t index, Bar& bar,
                        std::span<const mm::PhysRange> ram) {
    if (bar.kind == Bar::Kind::Absent) return lib::Errno::Inval;
    uint64_t base;
    if (bar.kind == Bar::Kind::Io) {
        if (address.bus != 0) return lib::Errno::OpNotSupp;
        base = TRY(take(g_io, bar.size, {}));
    } else if (address.bus == 0) {
        base = TRY(take(g_memory, bar.size, ram));
    } else {
        Window* window = TRY(window_behind_bridge(functions, address.bus, ram));
        base = TRY(take(*window, bar.size, ram));
    }
    return place_bar(address, index, bar, base);
}

}  // namespace kernel::drivers::pci
