// Process timing for the benchmarks: spawn a command with stdout on a pipe and time its first
// byte, a marker in its output, each line, and its exit, or keep its output; plus
// nearest-rank percentiles.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace bench {

using Clock = std::chrono::steady_clock;

bool kvm_available();

struct Sample {
    double first_byte_ms = -1;    // anything on stdout (for Phoenix: the kernel's first line)
    double first_output_ms = -1;  // the program's own first output (`marker` seen)
    double exit_ms = -1;
    int status = -1;
};

double since(Clock::time_point start);
// Spawns args with stdout on a pipe (stderr and stdin inherited) and times it; 60 s at most.
Sample measure(const std::vector<std::string>& args, const char* marker);
// Spawns args with stdout on a pipe and returns the arrival time of every line.
std::vector<double> line_times(const std::vector<std::string>& args);

struct Output {
    int status = -1;  // -1: killed by a signal (timed_out: ours), or not started
    bool timed_out = false;
    std::string out;
};
// Spawns args with stdout on a pipe and keeps everything it printed; timeout_ms at most.
Output capture(const std::vector<std::string>& args, int timeout_ms);

// Nearest-rank percentile.
double percentile(std::vector<double> values, double p);
// "bench SUITE NAME METRIC_ms median=... p10=... p90=... n=..."
void print_stats(const char* suite, const char* name, const char* metric, const std::vector<double>& values);
// The same line for a figure in other units: "bench SUITE NAME METRIC median=... ...".
void print_figure(const char* suite, const char* name, const char* metric, const std::vector<double>& values);

}  // namespace bench
