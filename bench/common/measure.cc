#include "bench/common/measure.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>

extern char** environ;

namespace bench {

namespace {

constexpr int kTimeoutMs = 60000;

}  // namespace

bool kvm_available() {
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) return false;
    close(fd);
    return true;
}

double since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

namespace {

// Spawns args with stdout on a pipe (stderr and stdin inherited), then hands every chunk of
// output to on_output(chunk, ms since the spawn) until EOF or the timeout (the child is
// killed then). Returns the child's exit status, -1 when it did not exit normally or could
// not be started; `start` is when it was spawned.
template <typename OnOutput>
int run_child(const std::vector<std::string>& args, Clock::time_point& start, OnOutput on_output,
              int timeout_ms = kTimeoutMs) {
    int fds[2];
    if (pipe(fds) != 0) return -1;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    start = Clock::now();
    pid_t pid = 0;
    int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (spawned != 0) {
        close(fds[0]);
        return -1;
    }
    char buffer[4096];
    for (;;) {
        pollfd pfd = {fds[0], POLLIN, 0};
        int left = timeout_ms - int(since(start));
        if (left <= 0 || poll(&pfd, 1, left) <= 0) {
            kill(pid, SIGKILL);
            break;
        }
        ssize_t n = read(fds[0], buffer, sizeof buffer);
        if (n <= 0) break;
        on_output(std::string_view(buffer, size_t(n)), since(start));
    }
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

Sample measure(const std::vector<std::string>& args, const char* marker) {
    Sample sample;
    std::string seen;
    Clock::time_point start;
    sample.status = run_child(args, start, [&](std::string_view chunk, double ms) {
        if (sample.first_byte_ms < 0) sample.first_byte_ms = ms;
        seen.append(chunk);
        if (sample.first_output_ms < 0 && seen.find(marker) != std::string::npos) sample.first_output_ms = ms;
    });
    sample.exit_ms = since(start);
    return sample;
}

std::vector<double> line_times(const std::vector<std::string>& args) {
    std::vector<double> times;
    Clock::time_point start;
    run_child(args, start, [&](std::string_view chunk, double ms) {
        for (char c : chunk)
            if (c == '\n') times.push_back(ms);
    });
    return times;
}

Output capture(const std::vector<std::string>& args, int timeout_ms) {
    Output output;
    Clock::time_point start;
    output.status = run_child(
        args, start, [&](std::string_view chunk, double) { output.out.append(chunk); }, timeout_ms);
    output.timed_out = output.status == -1 && since(start) >= timeout_ms;
    return output;
}

// Nearest-rank percentile.
double percentile(std::vector<double> values, double p) {
    std::sort(values.begin(), values.end());
    size_t rank = size_t(std::ceil(p * double(values.size())));
    return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

void print_figure(const char* suite, const char* name, const char* metric, const std::vector<double>& values) {
    std::printf("bench %s %s %s median=%.2f p10=%.2f p90=%.2f n=%zu\n", suite, name, metric,
                percentile(values, 0.5), percentile(values, 0.1), percentile(values, 0.9), values.size());
}

void print_stats(const char* suite, const char* name, const char* metric, const std::vector<double>& values) {
    print_figure(suite, name, (std::string(metric) + "_ms").c_str(), values);
}

}  // namespace bench
