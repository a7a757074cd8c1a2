// The boot protocol's two power ports (docs/boot-protocol.md), the same ones QEMU offers as
// isa-debugcon and isa-debug-exit so one kernel serves both hypervisors:
//   0x402  status channel: ASCII lines ("exit N", "panic")
//   0xf4   exit port: a 32-bit write powers off; N (0..255) is the exit status, 0x100 a panic
#pragma once

#include <functional>
#include <string>

#include "vmm/devices/pio_device.h"

namespace vmm {

class StatusPort final : public PioDevice {
public:
    static constexpr uint16_t kPort = 0x402;
    // Called on the vCPU thread with each complete line, as it arrives.
    using Listener = std::function<void(const std::string& line)>;
    void set_listener(Listener listener) { m_listener = std::move(listener); }
    void pio_read(uint16_t, std::span<std::byte> data) override;
    void pio_write(uint16_t offset, std::span<const std::byte> data) override;
    // The last complete line the kernel wrote ("" when none).
    const std::string& last_line() const { return m_last_line; }

private:
    static constexpr size_t kMaxLine = 128;
    std::string m_line;
    std::string m_last_line;
    Listener m_listener;
};

class ExitPort final : public PioDevice {
public:
    static constexpr uint16_t kPort = 0xf4;
    static constexpr uint32_t kPanicValue = 0x100;
    explicit ExitPort(StopRequest& stop) : m_stop(stop) {}
    void pio_read(uint16_t, std::span<std::byte> data) override;
    void pio_write(uint16_t offset, std::span<const std::byte> data) override;

private:
    StopRequest& m_stop;
};

// The i8042 keyboard controller, only as far as resetting the machine goes: command 0xfe on
// port 0x64 pulses the CPU reset line. Reads say "no data, ready for a command".
class I8042 final : public PioDevice {
public:
    static constexpr uint16_t kDataPort = 0x60;
    static constexpr uint16_t kPortCount = 5;  // 0x60..0x64
    explicit I8042(StopRequest& stop) : m_stop(stop) {}
    void pio_read(uint16_t offset, std::span<std::byte> data) override;
    void pio_write(uint16_t offset, std::span<const std::byte> data) override;

private:
    StopRequest& m_stop;
};

}  // namespace vmm
