// Status channel lines: "exit N" (0..255) or "panic", one per event; the last one counts.
#include "phx/runners/status_channel.h"

#include <signal.h>
#include <string.h>

#include <charconv>
#include <optional>
#include <string>

#include "phx/error.h"

namespace phx {

namespace {

enum class Event { Exit, Panic };

struct StatusLine {
    Event event;
    int status = 0;
};

std::optional<StatusLine> parse_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line == "panic") return StatusLine{Event::Panic};
    constexpr std::string_view kExit = "exit ";
    if (!line.starts_with(kExit)) return std::nullopt;
    std::string_view number = line.substr(kExit.size());
    int value = -1;
    auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (error != std::errc() || end != number.data() + number.size() || value < 0 || value > 255)
        return std::nullopt;
    return StatusLine{Event::Exit, value};
}

std::optional<StatusLine> last_status(std::string_view text) {
    std::optional<StatusLine> last;
    while (!text.empty()) {
        size_t end = text.find('\n');
        if (end == std::string_view::npos) break;  // a line cut short by the VM's end
        if (auto status = parse_line(text.substr(0, end))) last = status;
        text.remove_prefix(end + 1);
    }
    return last;
}

std::string signal_name(int signal) {
    const char* abbreviation = sigabbrev_np(signal);
    return abbreviation ? std::string("SIG") + abbreviation : "signal " + std::to_string(signal);
}

}  // namespace

bool guest_reset(std::string_view status_text, const ChildExit& hypervisor) {
    return !last_status(status_text) && hypervisor.forwarded_signal == 0 &&
           hypervisor.killed_by == 0 && hypervisor.exit_code == 0;
}

int vm_exit_status(std::string_view status_text, const ChildExit& hypervisor) {
    if (auto status = last_status(status_text)) {
        if (status->event == Event::Panic)
            throw PhxError(kExitVmFailed, "the Phoenix kernel panicked");
        return status->status;
    }
    if (hypervisor.forwarded_signal != 0)
        throw PhxError(128 + hypervisor.forwarded_signal,
                       "stopped by " + signal_name(hypervisor.forwarded_signal));
    if (hypervisor.killed_by != 0)
        throw PhxError(kExitVmFailed,
                       "the hypervisor was killed by " + signal_name(hypervisor.killed_by));
    int code = hypervisor.exit_code;
    // isa-debug-exit: QEMU exits with (word << 1) | 1, truncated to 8 bits by the OS. Code 1
    // is also QEMU's own failure status (bad kernel, bad option), so it proves nothing.
    if (code > 1 && (code & 1)) return (code - 1) / 2;
    std::string why = code == 1 ? "exit status 1: a QEMU error, see above"
                                : "exit status " + std::to_string(code);
    throw PhxError(kExitVmFailed, "the VM stopped without reporting a status (QEMU " + why + ")");
}

}  // namespace phx
