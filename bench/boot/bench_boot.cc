// bench/boot: wall time from `phx run` to the program's first output byte and to exit, for
// the static hello example; baselines in the same run: the same binary on the host, and phx
// booting a null kernel (QEMU's and phx's own share). Prints one line per figure:
//   bench boot <subject> <metric>_ms median=... p10=... p90=... n=...
//   bench boot ratio <metric> <subject>/<baseline>=...
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Sample {
    double first_byte_ms;
    double exit_ms;
};

// Spawns argv with stdout on a pipe; first byte = first time `marker` has been seen.
Sample measure(const std::vector<std::string>& args, const char* marker) {
    int fds[2];
    if (pipe(fds) != 0) return {-1, -1};
    auto start = Clock::now();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        std::vector<char*> argv;
        std::vector<std::string> copy = args;
        for (auto& a : copy) argv.push_back(a.data());
        argv.push_back(nullptr);
        execvp(argv[0], argv.data());
        _exit(127);
    }
    close(fds[1]);
    std::string seen;
    double first = -1;
    char buffer[4096];
    ssize_t n;
    while ((n = read(fds[0], buffer, sizeof buffer)) > 0) {
        seen.append(buffer, size_t(n));
        if (first < 0 && seen.find(marker) != std::string::npos)
            first = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    }
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    double done = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    return {first, done};
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[size_t(p * double(v.size() - 1) + 0.5)];
}

struct Summary {
    double first_median, exit_median;
};

Summary report(const char* subject, const std::vector<Sample>& samples) {
    std::vector<double> first, exit;
    for (auto& s : samples) {
        first.push_back(s.first_byte_ms);
        exit.push_back(s.exit_ms);
    }
    std::printf("bench boot %s first_byte_ms median=%.2f p10=%.2f p90=%.2f n=%zu\n", subject,
                percentile(first, 0.5), percentile(first, 0.1), percentile(first, 0.9),
                first.size());
    std::printf("bench boot %s exit_ms median=%.2f p10=%.2f p90=%.2f n=%zu\n", subject,
                percentile(exit, 0.5), percentile(exit, 0.1), percentile(exit, 0.9), exit.size());
    return {percentile(first, 0.5), percentile(exit, 0.5)};
}

}  // namespace

int main(int argc, char** argv) {
    int runs = 20;
    std::string accel = "auto";
    for (int i = 1; i + 1 < argc; ++i) {
        if (!std::strcmp(argv[i], "--runs")) runs = std::max(1, std::atoi(argv[i + 1]));
        if (!std::strcmp(argv[i], "--accel")) accel = argv[i + 1];
    }
    std::vector<Sample> phoenix, null_kernel, native;
    for (int i = 0; i < runs; ++i) {  // interleaved so drift hits all three alike
        phoenix.push_back(measure({PHX_BIN, "run", "--accel", accel, PHX_HELLO}, "Hello"));
        null_kernel.push_back(measure(
            {PHX_BIN, "run", "--accel", accel, "--kernel", PHX_NULL_KERNEL, PHX_HELLO}, "x"));
        native.push_back(measure({PHX_HELLO}, "Hello"));
    }
    auto p = report("phoenix", phoenix);
    auto q = report("qemu_null_kernel", null_kernel);
    auto n = report("native", native);
    std::printf("bench boot ratio first_byte phoenix/qemu_null_kernel=%.2f\n",
                p.first_median / q.first_median);
    std::printf("bench boot ratio exit phoenix/qemu_null_kernel=%.2f\n",
                p.exit_median / q.exit_median);
    std::printf("bench boot ratio first_byte phoenix/native=%.1f\n", p.first_median / n.first_median);
    std::printf("bench boot ratio exit phoenix/native=%.1f\n", p.exit_median / n.exit_median);
    for (auto& s : phoenix)
        if (s.first_byte_ms < 0) return 1;  // the program never printed: a broken boot
    return 0;
}
