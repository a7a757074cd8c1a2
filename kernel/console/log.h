// Kernel logging to the console through lib::format. `kprint` writes as is; `klog` prefixes
// the monotonic time so boot and crash logs read like a timeline.
#pragma once

#include <cstddef>
#include <string_view>

#include "lib/base/format.h"

namespace kernel::console {

// One message's pieces gathered so that the UART gets them in bursts (serial.cc) instead of
// piece by piece: where ring 0 is emulated every port access is a VM exit. On the stack, so
// that a message printed from an interrupt handler cannot tear another one's buffer; what it
// holds goes out when it fills up and when it is destroyed.
class ConsoleBuffer final : public lib::FormatSink {
public:
    ConsoleBuffer() = default;
    ConsoleBuffer(const ConsoleBuffer&) = delete;
    ConsoleBuffer& operator=(const ConsoleBuffer&) = delete;
    ~ConsoleBuffer() { flush(); }

    void write(std::string_view text) override;
    void flush();

private:
    char m_data[160];
    size_t m_length = 0;
};

// Unbuffered: each write goes to the UART at once.
lib::FormatSink& sink();

template <typename... Args>
void kprint(std::string_view fmt, const Args&... args) {
    ConsoleBuffer out;
    lib::format_to(out, fmt, args...);
}

void log_prefix(lib::FormatSink& out);

template <typename... Args>
void klog(std::string_view fmt, const Args&... args) {
    ConsoleBuffer out;
    log_prefix(out);
    lib::format_to(out, fmt, args...);
    out.write("\n");
}

}  // namespace kernel::console

namespace kernel {
using console::klog;
using console::kprint;
}  // namespace kernel
