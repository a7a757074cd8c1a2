// The console sinks and log prefix.
#include "kernel/console/log.h"

#include "kernel/console/serial.h"
#include "kernel/time/clock.h"

namespace kernel::console {

namespace {

class SerialSink final : public lib::FormatSink {
public:
    void write(std::string_view text) override { serial_write(text); }
};

SerialSink g_sink;

}  // namespace

lib::FormatSink& sink() { return g_sink; }

void ConsoleBuffer::write(std::string_view text) {
    while (!text.empty()) {
        if (m_length == sizeof(m_data)) flush();
        size_t n =
            sizeof(m_data) - m_length < text.size() ? sizeof(m_data) - m_length : text.size();
        __builtin_memcpy(m_data + m_length, text.data(), n);
        m_length += n;
        text.remove_prefix(n);
    }
}

void ConsoleBuffer::flush() {
    if (m_length) serial_write({m_data, m_length});
    m_length = 0;
}

void log_prefix(lib::FormatSink& out) {
    uint64_t ns = time::monotonic_ns();
    lib::format_to(out, "[{:>5}.{:06}] ", ns / 1000000000, (ns / 1000) % 1000000);
}

}  // namespace kernel::console
