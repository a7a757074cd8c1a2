// 82093AA register model: IOREGSEL at 0x00 picks a register, IOWIN at 0x10 reads or writes
// it; registers 0x10 + 2n and 0x11 + 2n are the low and high halves of pin n's entry.
#include "vmm/devices/ioapic.h"

#include <cstring>

namespace vmm {

namespace {

constexpr uint64_t kRegSelect = 0x00;
constexpr uint64_t kRegWindow = 0x10;
constexpr uint8_t kRegId = 0x00, kRegVersion = 0x01, kRegArbitration = 0x02, kRegTable = 0x10;
constexpr uint32_t kVersion = 0x11;

constexpr uint64_t kVectorMask = 0xff;
constexpr uint64_t kDeliveryModeShift = 8;
constexpr uint64_t kDestLogical = 1ull << 11;
constexpr uint64_t kDeliveryStatus = 1ull << 12;
constexpr uint64_t kActiveLow = 1ull << 13;
constexpr uint64_t kRemoteIrr = 1ull << 14;
constexpr uint64_t kLevel = 1ull << 15;
constexpr uint64_t kMasked = 1ull << 16;
constexpr uint64_t kReadOnly = kDeliveryStatus | kRemoteIrr;
constexpr uint64_t kDeliveryExtInt = 7;

MsiMessage message_for(uint64_t entry) {
    uint32_t dest = uint32_t(entry >> 56);
    uint32_t address = 0xfee00000u | dest << 12 | (entry & kDestLogical ? 1u << 2 : 0);
    uint32_t data = uint32_t(entry & kVectorMask) |
                    uint32_t((entry >> kDeliveryModeShift) & 7) << 8 |
                    (entry & kLevel ? 1u << 15 | 1u << 14 : 0);  // level, asserted
    return {address, data};
}

class PinLine final : public IrqLine {
public:
    PinLine(IoApic& ioapic, uint32_t pin) : m_ioapic(ioapic), m_pin(pin) {}
    void set_level(bool high) override { m_ioapic.set_level(m_pin, high); }

private:
    IoApic& m_ioapic;
    uint32_t m_pin;
};

}  // namespace

IoApic::IoApic(MsiSink& sink) : m_sink(sink) { m_entries.fill(kMasked); }

uint64_t IoApic::entry(uint32_t pin) const {
    std::lock_guard lock(m_lock);
    return pin < kPins ? m_entries[pin] : 0;
}

std::unique_ptr<IrqLine> IoApic::line(uint32_t pin) { return std::make_unique<PinLine>(*this, pin); }

void IoApic::mmio_read(uint64_t offset, std::span<std::byte> data) {
    uint32_t value = 0;
    {
        std::lock_guard lock(m_lock);
        if (offset == kRegSelect)
            value = m_select;
        else if (offset == kRegWindow)
            value = read_register(m_select);
    }
    std::memset(data.data(), 0, data.size());
    std::memcpy(data.data(), &value, data.size() < 4 ? data.size() : 4);
}

void IoApic::mmio_write(uint64_t offset, std::span<const std::byte> data) {
    std::lock_guard lock(m_lock);
    if (offset == kRegSelect && !data.empty()) {
        m_select = uint8_t(data[0]);
    } else if (offset == kRegWindow && data.size() == 4) {
        uint32_t value;
        std::memcpy(&value, data.data(), 4);
        write_register(m_select, value);
    }
}

uint32_t IoApic::read_register(uint8_t index) const {
    if (index == kRegId || index == kRegArbitration) return m_id << 24;
    if (index == kRegVersion) return (kPins - 1) << 16 | kVersion;
    if (index >= kRegTable && index < kRegTable + 2 * kPins) {
        uint64_t entry = m_entries[(index - kRegTable) / 2];
        return (index - kRegTable) % 2 ? uint32_t(entry >> 32) : uint32_t(entry);
    }
    return 0;
}

void IoApic::write_register(uint8_t index, uint32_t value) {
    if (index == kRegId) {
        m_id = (value >> 24) & 0xf;
        return;
    }
    if (index < kRegTable || index >= kRegTable + 2 * kPins) return;  // read-only or absent
    uint32_t pin = (index - kRegTable) / 2;
    uint64_t& entry = m_entries[pin];
    if ((index - kRegTable) % 2) {
        entry = (entry & 0xffff'ffffull) | uint64_t(value & 0xff000000u) << 32;
    } else {
        entry = (entry & (0xffff'ffffull << 32 | kReadOnly)) | (value & ~kReadOnly & 0x1ffff);
        if (!(entry & kLevel)) entry &= ~kRemoteIrr;  // only level pins wait for an EOI
    }
    publish_routes();
    service(pin);  // e.g. a level line asserted while masked goes out once unmasked
}

void IoApic::service(uint32_t pin) {
    uint64_t& entry = m_entries[pin];
    bool asserted = m_asserted[pin] != bool(entry & kActiveLow);
    if (!(entry & kLevel) || !asserted || (entry & (kMasked | kRemoteIrr))) return;
    if (((entry >> kDeliveryModeShift) & 7) == kDeliveryExtInt) return;  // no PIC behind us
    entry |= kRemoteIrr;
    m_sink.signal(message_for(entry));
}

void IoApic::set_level(uint32_t pin, bool high) {
    if (pin >= kPins) return;
    std::lock_guard lock(m_lock);
    uint64_t entry = m_entries[pin];
    bool was = m_asserted[pin] != bool(entry & kActiveLow);
    m_asserted[pin] = high;
    bool now = high != bool(entry & kActiveLow);
    if (entry & kLevel) {
        service(pin);
    } else if (!was && now && !(entry & kMasked) &&
               ((entry >> kDeliveryModeShift) & 7) != kDeliveryExtInt) {
        m_sink.signal(message_for(entry));  // edge: the rising edge is the interrupt
    }
}

void IoApic::end_of_interrupt(uint8_t vector) {
    std::lock_guard lock(m_lock);
    for (uint32_t pin = 0; pin < kPins; ++pin) {
        uint64_t& entry = m_entries[pin];
        if (!(entry & kLevel) || !(entry & kRemoteIrr) || (entry & kVectorMask) != vector)
            continue;
        entry &= ~kRemoteIrr;
        service(pin);  // still asserted: deliver again
    }
}

void IoApic::publish_routes() {
    std::array<MsiMessage, kPins> routes{};
    std::array<bool, kPins> present{};
    for (uint32_t pin = 0; pin < kPins; ++pin) {
        if (m_entries[pin] & kMasked) continue;
        routes[pin] = message_for(m_entries[pin]);
        present[pin] = true;
    }
    m_sink.set_routes(routes, present);
}

}  // namespace vmm
