// A port-I/O device: reads and writes of 1, 2 or 4 bytes at an offset from the device's first
// port. Values come straight from the guest and are never trusted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace vmm {

class PioDevice {
public:
    virtual ~PioDevice() = default;
    // Unknown registers read as all ones, as an unclaimed ISA port does.
    virtual void pio_read(uint16_t offset, std::span<std::byte> data) = 0;
    virtual void pio_write(uint16_t offset, std::span<const std::byte> data) = 0;
};

// Why a VM stops running: what its devices (or the vCPU) asked for.
enum class StopKind : uint8_t {
    None,
    PowerOff,  // status holds the program's exit status
    Panic,     // the kernel reported a panic
    Reset,     // i8042 reset, triple fault: build a fresh VM
};

struct StopRequest {
    StopKind kind = StopKind::None;
    int status = 0;
    const char* reason = "";  // static text for logs: "i8042 reset", "triple fault", ...
};

}  // namespace vmm
