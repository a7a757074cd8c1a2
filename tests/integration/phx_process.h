// Runs phx as a child process and captures what it printed and how it ended.
#pragma once

#include <string>
#include <vector>

namespace phx_test {

struct Outcome {
    int status = -1;  // exit status, or -1 when killed (timeout)
    std::string out;
    std::string err;
};

Outcome run_phx(const std::vector<std::string>& args, int timeout_seconds = 90);
std::string guest(const std::string& name);

}  // namespace phx_test
