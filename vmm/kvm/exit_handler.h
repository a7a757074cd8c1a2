// What the VMM does with one KVM exit: a function over the kvm_run record and the device bus,
// with no KVM calls of its own, so tests drive it with hand-made exit records.
#pragma once

#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vmm/devices/ioapic.h"
#include "vmm/devices/mmio_device.h"
#include "vmm/devices/pio_device.h"

namespace vmm {

class DeviceBus {
public:
    void add_pio(uint16_t base, uint16_t count, PioDevice& device);
    void add_mmio(uint64_t base, uint64_t size, MmioDevice& device);
    // Who hears the local APIC's EOIs for level-triggered vectors (KVM_EXIT_IOAPIC_EOI).
    void set_eoi_listener(IoApic& ioapic) { m_ioapic = &ioapic; }
    void end_of_interrupt(uint8_t vector) {
        if (m_ioapic) m_ioapic->end_of_interrupt(vector);
    }

    // Unclaimed ports read as all ones and unclaimed MMIO as zeros; writes to them vanish.
    void pio(uint16_t port, bool write, std::span<std::byte> data);
    void mmio(uint64_t address, bool write, std::span<std::byte> data);

private:
    struct PioRange {
        uint16_t base;
        uint16_t count;
        PioDevice* device;
    };
    struct MmioRange {
        uint64_t base;
        uint64_t size;
        MmioDevice* device;
    };
    std::vector<PioRange> m_pio;
    std::vector<MmioRange> m_mmio;
    IoApic* m_ioapic = nullptr;
};

enum class ExitResult : uint8_t {
    Continue,  // run the vCPU again (unless a device asked the VM to stop)
    Failed,    // the VM cannot continue; `error` says why
};

// run_size: the size of the mapping behind `run` (string I/O data must lie inside it).
ExitResult handle_exit(kvm_run& run, size_t run_size, DeviceBus& bus, StopRequest& stop,
                       std::string& error);

}  // namespace vmm
