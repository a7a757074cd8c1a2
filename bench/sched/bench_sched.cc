// bench/sched: what threads cost a program, as bench/sched/sched_guest.c measures it (a
// futex ping-pong between two threads, and pthread_create + pthread_join), run natively on
// the host and inside Phoenix (`phx run`, the builtin VMM) in the same run, interleaved so
// drift hits both alike. The guest times itself, so boot is not counted. Prints:
//   bench sched config runs=... round_trips=... threads=... kvm=...
//   bench sched <host|builtin> <figure> median=... p10=... p90=... n=...
//   bench sched ratio <figure> builtin/host=...
// When a run fails: "bench sched <subject> FAILED <why>" after the figures gathered so far,
// and exit status 1.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "bench/common/measure.h"

namespace {

using namespace bench;

const char* const kFigures[] = {"futex_pingpong_rtt_per_s", "thread_create_join_per_s"};
constexpr int kFigureCount = 2;
// Phoenix's ring 0 is emulated on some hosts (docs/ARCHITECTURE.md): every futex call and
// context switch there costs about a thousand times what it does natively.
constexpr int kTimeoutSeconds = 600;

struct Options {
    int runs = 3;
    long round_trips = 20000;
    long threads = 500;
};

bool parse_options(int argc, char** argv, Options& options) {
    for (int i = 1; i < argc; i += 2) {
        std::string flag = argv[i];
        if (i + 1 >= argc || (flag != "--runs" && flag != "--round-trips" && flag != "--threads")) {
            std::fprintf(stderr, "usage: bench_sched [--runs N] [--round-trips N] [--threads N]\n");
            return false;
        }
        long value = std::max(1L, std::atol(argv[i + 1]));
        if (flag == "--runs") options.runs = int(value);
        if (flag == "--round-trips") options.round_trips = value;
        if (flag == "--threads") options.threads = value;
    }
    return true;
}

struct Subject {
    const char* name;
    std::vector<std::string> command;
    std::vector<double> figures[kFigureCount];

    // One run: its figures are added, or the reason it failed is returned.
    std::string run() {
        Output output = capture(command, kTimeoutSeconds * 1000);
        if (output.timed_out) return "timed out after " + std::to_string(kTimeoutSeconds) + " s";
        if (output.status != 0)
            return "exit status " + std::to_string(output.status) +
                   ", last line: " + last_line(output.out);
        double found[kFigureCount];
        for (int f = 0; f < kFigureCount; ++f)
            if (!figure(output.out, kFigures[f], found[f]))
                return std::string("no ") + kFigures[f] +
                       " line, last line: " + last_line(output.out);
        for (int f = 0; f < kFigureCount; ++f) figures[f].push_back(found[f]);
        return "";
    }
    void report() const {
        for (int f = 0; f < kFigureCount; ++f)
            if (!figures[f].empty()) print_figure("sched", name, kFigures[f], figures[f]);
    }

    // The guest's "NAME VALUE" line; Phoenix's console also carries the kernel's log lines.
    static bool figure(const std::string& out, const char* name, double& value) {
        std::istringstream lines(out);
        std::string line, prefix = std::string(name) + " ";
        while (std::getline(lines, line)) {
            if (line.rfind(prefix, 0) != 0) continue;
            char* end = nullptr;
            value = std::strtod(line.c_str() + prefix.size(), &end);
            return end != line.c_str() + prefix.size() && value > 0;
        }
        return false;
    }
    static std::string last_line(const std::string& out) {
        size_t end = out.find_last_not_of('\n');
        if (end == std::string::npos) return "(no output)";
        size_t begin = out.rfind('\n', end);
        begin = begin == std::string::npos ? 0 : begin + 1;
        return out.substr(begin, end + 1 - begin);
    }
};

void ratio(const Subject& subject, const Subject& baseline) {
    for (int f = 0; f < kFigureCount; ++f)
        std::printf("bench sched ratio %s %s/%s=%.4f\n", kFigures[f], subject.name, baseline.name,
                    percentile(subject.figures[f], 0.5) / percentile(baseline.figures[f], 0.5));
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    if (!parse_options(argc, argv, options)) return 2;
    // phx keeps the image it builds for the guest under PHX_HOME: a scratch one, removed after.
    char pattern[] = "/tmp/phx-bench-sched-XXXXXX";
    if (!mkdtemp(pattern)) {
        std::perror("bench_sched: mkdtemp");
        return 1;
    }
    setenv("PHX_HOME", pattern, 1);
    bool kvm = kvm_available();
    std::printf("bench sched config runs=%d round_trips=%ld threads=%ld kvm=%s\n", options.runs,
                options.round_trips, options.threads, kvm ? "yes" : "no");

    std::string round_trips = std::to_string(options.round_trips);
    std::string threads = std::to_string(options.threads);
    Subject host{"host", {PHX_SCHED_GUEST, round_trips, threads}, {}};
    Subject builtin{
        "builtin",
        {PHX_BIN, "run", "--hypervisor", "builtin", PHX_SCHED_GUEST, "--", round_trips, threads},
        {}};
    std::string host_failure, builtin_failure;
    for (int i = 0; i < options.runs && host_failure.empty() && builtin_failure.empty(); ++i) {
        host_failure = host.run();
        if (kvm && host_failure.empty()) builtin_failure = builtin.run();
    }
    host.report();
    builtin.report();
    if (!kvm) std::printf("bench sched builtin skipped (no usable /dev/kvm)\n");
    if (!host_failure.empty()) std::printf("bench sched host FAILED %s\n", host_failure.c_str());
    if (!builtin_failure.empty())
        std::printf("bench sched builtin FAILED %s\n", builtin_failure.c_str());
    bool ok = host_failure.empty() && builtin_failure.empty();
    if (ok && kvm) ratio(builtin, host);
    std::filesystem::remove_all(pattern);
    return ok ? 0 : 1;
}
