// The console sink and log prefix.
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

void log_prefix() {
    uint64_t ns = time::monotonic_ns();
    kprint("[{:>5}.{:06}] ", ns / 1000000000, (ns / 1000) % 1000000);
}

}  // namespace kernel::console
