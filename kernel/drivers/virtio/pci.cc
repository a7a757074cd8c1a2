// virtio-pci discovery: IDs, capabilities, BARs, and the choice of interface.
#include "kernel/drivers/virtio/pci.h"

#include <optional>

#include "kernel/console/log.h"
#include "kernel/drivers/pci/bar.h"
#include "kernel/drivers/pci/bus.h"
#include "kernel/drivers/pci/resources.h"
#include "kernel/drivers/virtio/pci_legacy.h"
#include "kernel/drivers/virtio/pci_modern.h"
#include "kernel/mm/heap.h"
#include "kernel/mm/page_table.h"
#include "lib/base/format.h"
#include "lib/virtio/pci_caps.h"
#include "lib/virtio/pci_regs.h"

namespace kernel::drivers::virtio {

namespace {

namespace vpci = lib::virtio::pci;
using pci::Bar;

// The most of each structure mapped: all of the common configuration this driver uses; room
// for page-per-queue notification layouts; the device configuration (virtio-blk's is 60 bytes).
constexpr uint64_t kMaxNotifyMap = 64 * 1024;
constexpr uint64_t kMaxDeviceConfigMap = 4096;
constexpr uint64_t kIoSpaceEnd = 0x1'0000;

class FunctionConfig final : public vpci::ConfigSpace {
public:
    explicit FunctionConfig(pci::Address address) : m_address(address) {}
    uint32_t read32(uint8_t offset) const override { return pci::read32(m_address, offset); }

private:
    pci::Address m_address;
};

// One function's BARs, each sized once, and placed when the firmware left it at 0.
class BarSet {
public:
    BarSet(const pci::FunctionList& functions, pci::Address address, const char* location,
           std::span<const mm::PhysRange> ram)
        : m_functions(functions), m_address(address), m_location(location), m_ram(ram) {}

    lib::Result<Bar> get(uint8_t index, Bar::Kind kind) {
        if (index >= pci::kBarCount) return lib::Errno::Inval;
        Bar& bar = m_bars[index];
        if (!m_read[index]) {
            m_read[index] = true;
            bar = pci::read_bar(m_address, index);
            if (bar.kind == kind && bar.address == 0) {
                auto placed = pci::assign_bar(m_functions, m_address, index, bar, m_ram);
                if (placed.is_error()) {
                    klog("virtio-pci: {}: cannot place BAR {} ({} KiB): {}", m_location, index,
                         bar.size >> 10, lib::errno_name(placed.error()));
                    m_error[index] = placed.error();
                }
            }
        }
        if (m_error[index]) return *m_error[index];  // the BAR could not be placed
        if (bar.kind != kind) return lib::Errno::NoDev;
        if (kind == Bar::Kind::Memory && !pci::memory_bar_usable(bar, m_ram))
            return lib::Errno::Fault;
        if (kind == Bar::Kind::Io && (bar.address == 0 || bar.size > kIoSpaceEnd - bar.address))
            return lib::Errno::Fault;
        return bar;
    }

private:
    const pci::FunctionList& m_functions;
    pci::Address m_address;
    const char* m_location;
    std::span<const mm::PhysRange> m_ram;
    Bar m_bars[pci::kBarCount];
    bool m_read[pci::kBarCount] = {};
    std::optional<lib::Errno> m_error[pci::kBarCount];
};

// Maps up to `max_map` bytes of a structure checked to lie in its (memory) BAR and to hold
// `min_length` bytes; `mapped` gets the length mapped.
lib::Result<uint64_t> map_region(BarSet& bars, const vpci::Region& region, uint32_t min_length,
                                 uint64_t max_map, uint64_t& mapped) {
    Bar bar = TRY(bars.get(region.bar, Bar::Kind::Memory));
    if (!vpci::region_fits(region, bar.size, min_length)) return lib::Errno::Range;
    mapped = region.length < max_map ? region.length : max_map;
    return mm::map_mmio(bar.address + region.offset, mapped);
}

lib::Result<Transport*> make_modern(BarSet& bars, pci::Address address, uint32_t type,
                                    const vpci::Capabilities& caps, const char* location) {
    ModernPciRegisters registers;
    uint64_t mapped = 0;
    registers.common = TRY(
        map_region(bars, caps.common, vpci::common::kMinLength, vpci::common::kMinLength, mapped));
    registers.notify =
        TRY(map_region(bars, caps.notify, 2, kMaxNotifyMap, registers.notify_length));
    registers.notify_multiplier = caps.notify_off_multiplier;
    if (caps.device.present)
        registers.device =
            TRY(map_region(bars, caps.device, 4, kMaxDeviceConfigMap, registers.device_length));
    if (caps.msix.present) {
        // Without its table the device is still usable: its driver polls.
        uint64_t table_length = 0;
        auto table = map_region(bars, caps.msix.table, 16, caps.msix.table.length, table_length);
        if (table.has_value()) {
            registers.msix_table = table.value();
            registers.msix_capability = caps.msix.capability;
        }
    }
    pci::enable(address, pci::kCommandMemory | pci::kCommandBusMaster | pci::kCommandIntxDisable);
    Transport* device = mm::try_make<ModernPciDevice>(location, type, registers, address);
    if (!device) return lib::Errno::NoMem;
    return device;
}

lib::Result<Transport*> make_legacy(BarSet& bars, pci::Address address, uint32_t type,
                                    bool msix_enabled, const char* location) {
    Bar bar = TRY(bars.get(0, Bar::Kind::Io));
    uint16_t config = msix_enabled ? vpci::legacy::kConfigWithMsix : vpci::legacy::kConfig;
    if (bar.size < config) return lib::Errno::Range;
    pci::enable(address, pci::kCommandIo | pci::kCommandBusMaster | pci::kCommandIntxDisable);
    Transport* device = mm::try_make<LegacyPciDevice>(location, type, uint16_t(bar.address),
                                                      uint32_t(bar.size), config);
    if (!device) return lib::Errno::NoMem;
    return device;
}

void probe(const pci::FunctionList& functions, const pci::Function& function,
           std::span<const mm::PhysRange> ram) {
    if (function.vendor_id != vpci::kVendorId || function.header_type != pci::kHeaderTypeDevice)
        return;
    bool transitional = vpci::is_transitional_id(function.device_id);
    uint16_t subsystem = transitional ? pci::read16(function.address, pci::kSubsystemId) : 0;
    uint32_t type = vpci::device_type(function.vendor_id, function.device_id, subsystem);
    if (type == 0) return;
    char location[24];
    lib::BufferSink sink(location, sizeof(location));
    const pci::Address& at = function.address;
    lib::format_to(sink, "{:02x}:{:02x}.{}", at.bus, at.device, at.function);

    vpci::Capabilities caps = vpci::find_capabilities(FunctionConfig(at));
    BarSet bars(functions, at, location, ram);
    const char* interface = "modern";
    lib::Result<Transport*> device = lib::Errno::NoEnt;
    if (caps.modern()) {
        device = make_modern(bars, at, type, caps, location);
        if (device.is_error())
            klog("virtio-pci: {} at {}: modern interface unusable ({})", device_name(type),
                 location, lib::errno_name(device.error()));
    }
    if (device.is_error() && transitional) {
        interface = "legacy";
        device = make_legacy(bars, at, type, caps.msix_enabled, location);
    }
    if (device.is_error()) {
        klog("virtio-pci: {} at {} ignored ({})", device_name(type), location,
             lib::errno_name(device.error()));
        return;
    }
    register_device(*device.value());
    klog("virtio-pci: {} at {} ({})", device_name(type), location, interface);
}

}  // namespace

void discover_pci_devices(std::span<const mm::PhysRange> ram) {
    static pci::FunctionList functions;  // 64 entries: off the kernel stack
    pci::enumerate(functions);
    if (functions.dropped)
        klog("pci: more than {} functions, {} ignored", pci::FunctionList::kMaxFunctions,
             functions.dropped);
    for (size_t i = 0; i < functions.count; ++i) probe(functions, functions.functions[i], ram);
}

}  // namespace kernel::drivers::virtio
