// bench/boot: wall time from spawning `phx run hello` to the first byte on its stdout, to the
// program's own first output, and to exit, on Phoenix's own VMM (builtin) and on QEMU.
// Baselines in the same run, interleaved so drift hits all alike: the same static binary run
// natively, and each hypervisor booting a null PVH kernel that only writes one byte and the
// exit port (the hypervisor's and phx's share of every boot). Then the reboot cycle: a null
// kernel that prints a line and resets, restarted by phx; the time between successive lines
// is what a reset costs from the guest's reset to the next boot's first output. Prints:
//   bench boot <subject> <metric>_ms median=... p10=... p90=... n=...
//   bench boot ratio <metric> <subject>/<baseline>=...
#include <fcntl.h>
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

#include "bench/common/measure.h"

namespace {

using namespace bench;

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
        print_stats(name, metric_name, values);
    }
    static void print_stats(const char* name, const char* metric_name,
                            const std::vector<double>& values) {
        bench::print_stats("boot", name, metric_name, values);
    }
};

struct Options {
    int runs = 20;
    int cycles = 50;
    std::string accel = "auto";  // QEMU's accelerator; builtin is always KVM
    std::string memory = "1G";
};

bool parse_options(int argc, char** argv, Options& options) {
    for (int i = 1; i < argc; ++i) {
        std::string flag = argv[i];
        if (flag == "-h" || flag == "--help" || i + 1 >= argc) {
            std::fprintf(stderr, "usage: bench_boot [--runs N] [--cycles N] [--accel auto|kvm|tcg] "
                                 "[--memory SIZE]\n");
            return false;
        }
        std::string value = argv[++i];
        if (flag == "--runs") {
            options.runs = std::max(1, std::atoi(value.c_str()));
        } else if (flag == "--cycles") {
            options.cycles = std::max(2, std::atoi(value.c_str()));
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

// Reboot cycles under one hypervisor: the gaps between the null reset kernel's lines.
std::vector<double> reset_cycles(const std::vector<std::string>& phx, int cycles) {
    std::vector<std::string> args = phx;
    args.insert(args.end(), {"--kernel", PHX_NULL_RESET_KERNEL, "--max-restarts",
                             std::to_string(cycles), "--restart-window", "0",
                             "--restart-backoff", "0", PHX_HELLO});
    std::vector<double> times = line_times(args);
    std::vector<double> gaps;
    for (size_t i = 1; i < times.size(); ++i) gaps.push_back(times[i] - times[i - 1]);
    return gaps;
}

void print_ratios(const Subject& subject, const Subject& baseline) {
    auto ratio = [&](const char* metric_name, double Sample::*metric) {
        std::printf("bench boot ratio %s %s/%s=%.2f\n", metric_name, subject.name, baseline.name,
                    subject.median(metric) / baseline.median(metric));
    };
    ratio("first_byte", &Sample::first_byte_ms);
    ratio("first_output", &Sample::first_output_ms);
    ratio("exit", &Sample::exit_ms);
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    if (!parse_options(argc, argv, options)) return 2;
    bool kvm = kvm_available();
    std::string qemu_accel = options.accel == "auto" ? (kvm ? "kvm" : "tcg") : options.accel;
    std::vector<std::string> builtin = {PHX_BIN, "run", "--hypervisor", "builtin", "-m",
                                        options.memory};
    std::vector<std::string> qemu = {PHX_BIN, "run",   "--hypervisor", "qemu",
                                     "--accel", qemu_accel, "-m",      options.memory};
    auto with = [](std::vector<std::string> base, std::vector<std::string> more) {
        base.insert(base.end(), more.begin(), more.end());
        return base;
    };
    std::vector<Subject> subjects;
    if (kvm) {
        subjects.push_back({"builtin", with(builtin, {PHX_HELLO}), "Hello", {}});
        subjects.push_back(
            {"builtin_null", with(builtin, {"--kernel", PHX_NULL_KERNEL, PHX_HELLO}), "x", {}});
    }
    subjects.push_back({"qemu", with(qemu, {PHX_HELLO}), "Hello", {}});
    subjects.push_back({"qemu_null", with(qemu, {"--kernel", PHX_NULL_KERNEL, PHX_HELLO}), "x", {}});
    subjects.push_back({"native", {PHX_HELLO}, "Hello", {}});
    std::printf("bench boot config runs=%d cycles=%d kvm=%s qemu_accel=%s memory=%s\n",
                options.runs, options.cycles, kvm ? "yes" : "no", qemu_accel.c_str(),
                options.memory.c_str());
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
    auto find = [&](const char* name) -> const Subject* {
        for (const auto& subject : subjects)
            if (std::string(subject.name) == name) return &subject;
        return nullptr;
    };
    if (kvm) {
        print_ratios(*find("qemu"), *find("builtin"));
        print_ratios(*find("builtin"), *find("builtin_null"));
        print_ratios(*find("builtin"), *find("native"));
    }
    print_ratios(*find("qemu"), *find("qemu_null"));

    std::fflush(stdout);
    std::vector<double> builtin_cycles, qemu_cycles;
    if (kvm) builtin_cycles = reset_cycles(builtin, options.cycles);
    // QEMU's reboot cycle on TCG: with KVM on nested hosts a guest reset hangs QEMU (see
    // docs/ARCHITECTURE.md, known host quirks) instead of letting -no-reboot end it.
    std::vector<std::string> qemu_tcg = {PHX_BIN, "run", "--hypervisor", "qemu", "--accel", "tcg",
                                         "-m", options.memory};
    qemu_cycles = reset_cycles(qemu_tcg, std::max(2, options.cycles / 5));
    if ((kvm && builtin_cycles.size() + 1 < size_t(options.cycles)) || qemu_cycles.empty()) {
        std::fprintf(stderr, "bench boot error: too few reboot cycles (builtin %zu, qemu %zu)\n",
                     builtin_cycles.size(), qemu_cycles.size());
        return 1;
    }
    if (kvm) Subject::print_stats("builtin", "reset_cycle", builtin_cycles);
    Subject::print_stats("qemu_tcg", "reset_cycle", qemu_cycles);
    if (kvm)
        std::printf("bench boot ratio reset_cycle qemu_tcg/builtin=%.2f\n",
                    percentile(qemu_cycles, 0.5) / percentile(builtin_cycles, 0.5));
    return 0;
}
