// The I/O APIC (82093AA, version 0x11, 24 pins) in user space, for KVM's split irqchip: the
// local APIC stays in KVM, the pin-to-vector routing lives here. KVM's full in-kernel irqchip
// (PIC + IOAPIC) made every VM teardown wait 12-20 ms for SRCU grace periods on this host
// (measured); with the split irqchip creating and destroying a VM costs about 1 ms in all.
//
// A pin's interrupt becomes an MSI built from its redirection entry and goes to the MsiSink.
// Level-triggered pins follow the IOAPIC's remote-IRR protocol: delivered once, then not again
// until the local APIC's EOI for that vector comes back (KVM_EXIT_IOAPIC_EOI) while the line
// is still asserted. The routes sink learns each pin's MSI so KVM can tell which vectors need
// those EOI exits.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>

#include "vmm/devices/mmio_device.h"

namespace vmm {

struct MsiMessage {
    uint32_t address;
    uint32_t data;
    bool operator==(const MsiMessage&) const = default;
};

// Where interrupts go (KVM_SIGNAL_MSI and KVM_SET_GSI_ROUTING in the VMM, fakes in tests).
class MsiSink {
public:
    virtual ~MsiSink() = default;
    virtual void signal(const MsiMessage& message) = 0;
    // The MSI each pin currently maps to; masked pins are absent (`present[pin]` false).
    virtual void set_routes(const std::array<MsiMessage, 24>& routes,
                            const std::array<bool, 24>& present) = 0;
};

class IoApic final : public MmioDevice {
public:
    static constexpr uint64_t kBase = 0xfec00000;
    static constexpr uint64_t kSize = 0x1000;
    static constexpr uint32_t kPins = 24;

    explicit IoApic(MsiSink& sink);

    void mmio_read(uint64_t offset, std::span<std::byte> data) override;
    void mmio_write(uint64_t offset, std::span<const std::byte> data) override;

    // A device drives pin `pin` (thread-safe: the console input thread raises IRQs too).
    void set_level(uint32_t pin, bool high);
    // The local APIC signalled end of interrupt for `vector`.
    void end_of_interrupt(uint8_t vector);
    // An IrqLine for a device, driving `pin`.
    std::unique_ptr<IrqLine> line(uint32_t pin);

    uint64_t entry(uint32_t pin) const;  // for tests

private:
    uint32_t read_register(uint8_t index) const;
    void write_register(uint8_t index, uint32_t value);
    // Delivers pin's interrupt if it is asserted, unmasked and (level) not awaiting EOI.
    void service(uint32_t pin);
    void publish_routes();

    MsiSink& m_sink;
    mutable std::mutex m_lock;
    uint8_t m_select = 0;
    uint32_t m_id = 0;
    std::array<uint64_t, kPins> m_entries;
    std::array<bool, kPins> m_asserted{};  // the line's level as the device drives it
};

}  // namespace vmm
