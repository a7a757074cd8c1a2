// Kernel logging to the console through lib::format. `kprint` writes as is; `klog` prefixes
// the monotonic time so boot and crash logs read like a timeline.
#pragma once

#include <string_view>

#include "lib/base/format.h"

namespace kernel::console {

lib::FormatSink& sink();

template <typename... Args>
void kprint(std::string_view fmt, const Args&... args) {
    lib::format_to(sink(), fmt, args...);
}

void log_prefix();

template <typename... Args>
void klog(std::string_view fmt, const Args&... args) {
    log_prefix();
    lib::format_to(sink(), fmt, args...);
    sink().write("\n");
}

}  // namespace kernel::console

namespace kernel {
using console::klog;
using console::kprint;
}  // namespace kernel
