#include "vmm/devices/power_ports.h"

#include <cstring>

namespace vmm {

namespace {

constexpr uint16_t kCommandPortOffset = 4;  // 0x64
constexpr uint8_t kCommandPulseReset = 0xfe;

void fill(std::span<std::byte> data, uint8_t value) {
    for (auto& b : data) b = std::byte(value);
}

}  // namespace

void StatusPort::pio_read(uint16_t, std::span<std::byte> data) { fill(data, 0xff); }

void StatusPort::pio_write(uint16_t offset, std::span<const std::byte> data) {
    if (offset != 0) return;
    for (std::byte b : data) {
        char c = char(b);
        if (c == '\n') {
            m_last_line = m_line;
            m_line.clear();
            if (m_listener) m_listener(m_last_line);
        } else if (m_line.size() < kMaxLine) {
            m_line.push_back(c);
        }
    }
}

void ExitPort::pio_read(uint16_t, std::span<std::byte> data) { fill(data, 0xff); }

void ExitPort::pio_write(uint16_t offset, std::span<const std::byte> data) {
    if (offset != 0 || data.empty() || m_stop.kind != StopKind::None) return;
    uint32_t value = 0;
    std::memcpy(&value, data.data(), data.size() < 4 ? data.size() : 4);
    if (value == kPanicValue) {
        m_stop = {StopKind::Panic, 0, "kernel panic"};
    } else {
        m_stop = {StopKind::PowerOff, int(value & 0xff), "power off"};
    }
}

void I8042::pio_read(uint16_t offset, std::span<std::byte> data) {
    // Status (0x64): output buffer empty, input buffer empty, system flag set.
    fill(data, offset == kCommandPortOffset ? 0x04 : 0x00);
}

void I8042::pio_write(uint16_t offset, std::span<const std::byte> data) {
    if (offset == kCommandPortOffset && !data.empty() && uint8_t(data[0]) == kCommandPulseReset &&
        m_stop.kind == StopKind::None)
        m_stop = {StopKind::Reset, 0, "i8042 reset"};
}

}  // namespace vmm
