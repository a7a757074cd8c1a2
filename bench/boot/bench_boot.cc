// bench/boot: wall time from spawning `phx run hello` to the first byte on its stdout, to the
// program's own first output, and to exit. Baselines in the same run, interleaved so drift hits
// all alike: the same static binary run natively, and phx booting a null PVH kernel that only
// writes one byte and the exit port (QEMU's and phx's share of every boot). Prints one line
// per figure:
//   bench boot <subject> <metric>_ms median=... p10=... p90=... n=...
//   bench boot ratio <metric> <subject>/<baseline>=...
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kTimeoutMs = 60000;

struct Sample {
    double first_byte_ms = -1;    // anything on stdout (for Phoenix: the kernel's first line)
    double first_output_ms = -1;  // the program's own first output (`marker` seen)
    double exit_ms = -1;
    int status = -1;
};

double since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Spawns args with stdout on a pipe (stderr and stdin inherited) and times it.
Sample measure(const std::vector<std::string>& args, const char* marker) {
    Sample sample;
    int fds[2];
    if (pipe(fds) != 0) return sample;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);

    auto start = Clock::now();
    pid_t pid = 0;
    int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (spawned != 0) {
        close(fds[0]);
        return sample;
    }
    std::string seen;
    char buffer[4096];
    for (;;) {
        pollfd pfd = {fds[0], POLLIN, 0};
        int left = kTimeoutMs - int(since(start));
        if (left <= 0 || poll(&pfd, 1, left) <= 0) {
            kill(pid, SIGKILL);
            break;
        }
        ssize_t n = read(fds[0], buffer, sizeof buffer);
        if (n <= 0) break;
        if (sample.first_byte_ms < 0) sample.first_byte_ms = since(start);
        seen.append(buffer, size_t(n));
        if (sample.first_output_ms < 0 && seen.find(marker) != std::string::npos)
            sample.first_output_ms = since(start);
    }
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    sample.exit_ms = since(start);
    sample.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return sample;
}

// Nearest-rank percentile.
double percentile(std::vector<double> values, double p) {
    std::sort(values.begin(), values.end());
    size_t rank = size_t(std::ceil(p * double(values.size())));
    return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

struct Subject {
    const char* name;
    std::vector<std::string> command;
    const char* marker;
    std::vector<Sample> samples;

    double median(double Sample::*metric) const {
        std::vector<double> values;
        for (const auto& s : samples) values.push_back(s.*metric);
        return percentile(values, 0.5);
    }
    void report(const char* metric_name, double Sample::*metric) const {
        std::vector<double> values;
        for (const auto& s : samples) values.push_back(s.*metric);
        std::printf("bench boot %s %s_ms median=%.2f p10=%.2f p90=%.2f n=%zu\n", name, metric_name,
                    percentile(values, 0.5), percentile(values, 0.1), percentile(values, 0.9),
                    values.size());
    }
};

struct Options {
    int runs = 20;
    std::string accel = "auto";
    std::string memory = "1G";
};

bool parse_options(int argc, char** argv, Options& options) {
    for (int i = 1; i < argc; ++i) {
        std::string flag = argv[i];
        if (flag == "-h" || flag == "--help" || i + 1 >= argc) {
            std::fprintf(stderr,
                         "usage: bench_boot [--runs N] [--accel auto|kvm|tcg] [--memory SIZE]\n");
            return false;
        }
        std::string value = argv[++i];
        if (flag == "--runs") {
            options.runs = std::max(1, std::atoi(value.c_str()));
        } else if (flag == "--accel") {
            options.accel = value;
        } else if (flag == "--memory") {
            options.memory = value;
        } else {
            std::fprintf(stderr, "bench_boot: unknown flag %s\n", flag.c_str());
            return false;
        }
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    if (!parse_options(argc, argv, options)) return 2;
    std::vector<std::string> phx = {PHX_BIN, "run", "--accel", options.accel, "-m", options.memory};
    std::vector<std::string> null_kernel = phx;
    null_kernel.insert(null_kernel.end(), {"--kernel", PHX_NULL_KERNEL});
    phx.push_back(PHX_HELLO);
    null_kernel.push_back(PHX_HELLO);
    std::vector<Subject> subjects = {
        {"phoenix", phx, "Hello", {}},
        {"qemu_null", null_kernel, "x", {}},
        {"native", {PHX_HELLO}, "Hello", {}},
    };
    std::printf("bench boot config runs=%d accel=%s memory=%s\n", options.runs,
                options.accel.c_str(), options.memory.c_str());
    for (int run = 0; run < options.runs; ++run) {
        for (auto& subject : subjects) {
            Sample sample = measure(subject.command, subject.marker);
            if (sample.status != 0 || sample.first_output_ms < 0) {
                std::fprintf(stderr, "bench boot error subject=%s run=%d status=%d output=%s\n",
                             subject.name, run, sample.status,
                             sample.first_output_ms < 0 ? "missing" : "seen");
                return 1;
            }
            subject.samples.push_back(sample);
        }
    }
    for (const auto& subject : subjects) {
        subject.report("first_byte", &Sample::first_byte_ms);
        subject.report("first_output", &Sample::first_output_ms);
        subject.report("exit", &Sample::exit_ms);
    }
    const Subject& phoenix = subjects[0];
    for (const Subject* baseline : {&subjects[1], &subjects[2]}) {
        auto ratio = [&](const char* metric_name, double Sample::*metric) {
            std::printf("bench boot ratio %s phoenix/%s=%.2f\n", metric_name, baseline->name,
                        phoenix.median(metric) / baseline->median(metric));
        };
        ratio("first_byte", &Sample::first_byte_ms);
        ratio("first_output", &Sample::first_output_ms);
        ratio("exit", &Sample::exit_ms);
    }
    return 0;
}
