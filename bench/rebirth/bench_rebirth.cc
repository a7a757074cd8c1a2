// bench/rebirth: from the instant the guest executes `hlt` to the next HTTP answer served, and
// answers per second when every answer comes from a fresh VM. The subject is the seed's server
// (examples/hello-world-rust): it answers, shuts its side of the connection down (so the
// client sees the end of the answer at once) and executes `cli; hlt`. The client reads to
// EOF, which is the hlt instant as seen from the host, then asks again, retrying while the VM
// is reborn; the time to the next complete answer is one rebirth.
// Subjects: our VMM (KVM), QEMU with TCG (the runner starts a new QEMU for every boot; QEMU
// with KVM hangs on a guest reset on this host, docs/ARCHITECTURE.md), and the baseline: the same binary natively, restarted by this process after each
// crash (what a process supervisor gives on Linux). Prints:
//   bench rebirth <subject> hlt_to_answer_ms median=... p10=... p90=... n=...
//   bench rebirth <subject> hlt_to_answer_p99_ms value=...
//   bench rebirth <subject> fresh_vm_answers_per_s value=...
//   bench rebirth ratio hlt_to_answer_median <subject>/native=...
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bench/common/measure.h"

extern char** environ;

namespace {

using bench::Clock;

struct Options {
    int crashes = 200;
    int qemu_crashes = -1;  // -1: as many as --crashes (a QEMU rebirth takes seconds under TCG)
};

uint16_t free_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    close(fd);
    return ntohs(address.sin_port);
}

// One GET to EOF; true when the answer was complete.
bool get(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    // Short: a connection the forward accepted while no server was listening yet (QEMU's
    // slirp restarts with QEMU) never answers, and waiting on it would be measured as rebirth.
    timeval timeout{0, 500000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string answer;
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
        const char request[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
        if (send(fd, request, sizeof(request) - 1, MSG_NOSIGNAL) == ssize_t(sizeof(request) - 1)) {
            char buffer[4096];
            for (ssize_t n; (n = recv(fd, buffer, sizeof(buffer), 0)) > 0;) answer.append(buffer, size_t(n));
        }
    }
    close(fd);
    return answer.find("stack variable at") != std::string::npos;
}

pid_t spawn(const std::vector<std::string>& args, const char* log) {
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&files, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&files, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    for (auto& arg : copy) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    if (posix_spawn(&pid, argv[0], &files, nullptr, argv.data(), environ) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&files);
    return pid;
}

struct Result {
    std::vector<double> gaps_ms;  // EOF of answer i -> end of answer i + 1
    double answers_per_s = 0;
    bool ok = false;
};

// Asks `crashes` + 1 times in a row; the first answer waits for the first boot.
Result measure(uint16_t port, int crashes) {
    Result result;
    auto deadline_for = [](int seconds) { return Clock::now() + std::chrono::seconds(seconds); };
    auto until = deadline_for(180);
    while (!get(port))
        if (Clock::now() > until) return result;
        else std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto start = Clock::now();
    auto last = start;
    for (int i = 0; i < crashes; ++i) {
        until = deadline_for(60);
        while (!get(port)) {
            if (Clock::now() > until) return result;
            std::this_thread::sleep_for(std::chrono::microseconds(500));
        }
        auto now = Clock::now();
        result.gaps_ms.push_back(std::chrono::duration<double, std::milli>(now - last).count());
        last = now;
    }
    result.answers_per_s = crashes / std::chrono::duration<double>(last - start).count();
    result.ok = true;
    return result;
}

void report(const char* subject, const Result& result) {
    if (!result.ok) {
        std::printf("bench rebirth %s FAILED (no answer within the deadline)\n", subject);
        return;
    }
    bench::print_stats("rebirth", subject, "hlt_to_answer", result.gaps_ms);
    std::printf("bench rebirth %s hlt_to_answer_p99_ms value=%.2f\n", subject, bench::percentile(result.gaps_ms, 0.99));
    std::printf("bench rebirth %s fresh_vm_answers_per_s value=%.2f\n", subject, result.answers_per_s);
    std::fflush(stdout);
}

// The server natively, restarted after each crash until `stop`.
Result run_native(int crashes, const std::string& log) {
    // The server listens on 8080: only when that port is free.
    uint16_t port = 8080;
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    int one = 1;
    setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    bool free = bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    close(probe);
    if (!free) {
        std::printf("bench rebirth native SKIP (port 8080 is busy)\n");
        return {};
    }
    std::atomic<bool> stop{false};
    std::thread supervisor([&] {
        while (!stop.load()) {
            pid_t pid = spawn({PHX_DEMO}, log.c_str());
            if (pid < 0) return;
            int status = 0;
            while (waitpid(pid, &status, WNOHANG) == 0) {
                if (stop.load()) {
                    kill(pid, SIGKILL);
                    waitpid(pid, &status, 0);
                    return;
                }
                std::this_thread::sleep_for(std::chrono::microseconds(200));
            }
        }
    });
    Result result = measure(port, crashes);
    stop = true;
    supervisor.join();
    return result;
}

Result run_phx(const std::vector<std::string>& target, int crashes, const std::string& home, const std::string& log) {
    uint16_t port = free_port();
    std::vector<std::string> args = {PHX_BIN, "run"};
    args.insert(args.end(), target.begin(), target.end());
    args.insert(args.end(), {"-c", std::string(PHX_SOURCE_DIR) + "/examples/hello-world-rust/config.json", "-p",
                             std::to_string(port) + ":8080", "--restart-backoff", "0", "--max-restarts",
                             "100000", PHX_DEMO});
    setenv("PHX_HOME", home.c_str(), 1);
    pid_t pid = spawn(args, log.c_str());
    Result result = measure(port, crashes);
    kill(pid, SIGINT);
    int status = 0;
    waitpid(pid, &status, 0);
    return result;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--crashes") && i + 1 < argc) options.crashes = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--qemu-crashes") && i + 1 < argc) options.qemu_crashes = std::atoi(argv[++i]);
        else {
            std::fprintf(stderr, "usage: bench_rebirth [--crashes N] [--qemu-crashes N]\n");
            return 2;
        }
    }
    if (access(PHX_DEMO, X_OK) != 0) {
        std::printf("bench rebirth SKIP (%s is missing: no cargo at configure time)\n", PHX_DEMO);
        return 0;
    }
    char dir_template[] = "/tmp/bench-rebirth-XXXXXX";
    std::string dir = mkdtemp(dir_template);
    std::string log = dir + "/console.log";
    std::printf("bench rebirth config crashes=%d qemu_crashes=%d server=%s log=%s\n", options.crashes,
                options.qemu_crashes >= 0 ? options.qemu_crashes : options.crashes, PHX_DEMO, log.c_str());
    std::fflush(stdout);

    Result native = run_native(options.crashes, log);
    report("native", native);
    struct Target {
        const char* name;
        std::vector<std::string> args;
        bool needs_kvm;
    };
    const Target targets[] = {
        {"builtin", {"--hypervisor", "builtin"}, true},
        {"qemu-tcg", {"--hypervisor", "qemu", "--accel", "tcg"}, false},
    };
    for (const Target& target : targets) {
        if (target.needs_kvm && !bench::kvm_available()) {
            std::printf("bench rebirth %s SKIP (no usable /dev/kvm)\n", target.name);
            continue;
        }
        bool qemu = std::strncmp(target.name, "qemu", 4) == 0;
        int crashes = qemu && options.qemu_crashes >= 0 ? options.qemu_crashes : options.crashes;
        Result result = run_phx(target.args, crashes, dir + "/home", log);
        report(target.name, result);
        if (result.ok && native.ok)
            std::printf("bench rebirth ratio hlt_to_answer_median %s/native=%.2f\n", target.name,
                        bench::percentile(result.gaps_ms, 0.5) / bench::percentile(native.gaps_ms, 0.5));
        std::fflush(stdout);
    }
    return 0;
}
