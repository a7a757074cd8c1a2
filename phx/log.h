// phx's -v output: progress lines on stderr ("phx: ..."), silent unless verbose was set.
#pragma once

#include <string_view>

namespace phx {

void set_verbose(bool on);
bool verbose();
void log_verbose(std::string_view line);
// Always printed: events the user should see (reboots).
void log_info(std::string_view line);

}  // namespace phx
