// I/O APIC programming (82093AA datasheet, 3.2): an index register and a data window; entry
// N's two halves at 0x10 + 2N and 0x11 + 2N.
#include "kernel/drivers/ioapic.h"

#include "kernel/arch/x86_64/irq.h"
#include "kernel/console/log.h"
#include "kernel/mm/page_table.h"

namespace kernel::drivers {

namespace {

constexpr uint32_t kRegVersion = 1, kRegTable = 0x10;
constexpr uint32_t kMasked = 1u << 16;

struct IoApic {
    uint64_t phys;
    uint32_t gsi_base;
    volatile uint32_t* registers = nullptr;
    uint32_t inputs = 0;  // 0: not probed yet or absent
    bool probed = false;

    uint32_t read(uint32_t index) const {
        registers[0] = index;
        return registers[4];
    }
    void write(uint32_t index, uint32_t value) {
        registers[0] = index;
        registers[4] = value;
    }

    void probe() {
        if (probed) return;
        probed = true;
        auto mapped = mm::map_mmio(phys, 0x1000);
        if (mapped.is_error()) return;
        registers = reinterpret_cast<volatile uint32_t*>(mapped.value());
        uint32_t version = read(kRegVersion);
        if (version == 0xffffffff || version == 0) return;  // nothing decodes the window
        inputs = ((version >> 16) & 0xff) + 1;
    }
};

IoApic g_ioapics[] = {{0xfec00000, 0}, {0xfec10000, 24}};

}  // namespace

lib::ErrorOr route_gsi(uint32_t gsi, int vector) {
    for (IoApic& ioapic : g_ioapics) {
        if (gsi < ioapic.gsi_base) continue;
        ioapic.probe();
        uint32_t pin = gsi - ioapic.gsi_base;
        if (pin >= ioapic.inputs) continue;
        // Fixed delivery, physical destination, active high, edge: drivers re-read their
        // device's status before returning, so an edge is never needed twice.
        ioapic.write(kRegTable + 2 * pin, kMasked);
        ioapic.write(kRegTable + 2 * pin + 1, arch::apic_id() << 24);
        ioapic.write(kRegTable + 2 * pin, uint32_t(vector) & 0xff);
        return {};
    }
    klog("ioapic: no I/O APIC input for GSI {}", gsi);
    return lib::Errno::NoDev;
}

}  // namespace kernel::drivers
