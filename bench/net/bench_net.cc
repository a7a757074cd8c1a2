// bench/net: the same static epoll HTTP server (bench/net/http_server.c) driven by wrk for N
// seconds each, in one run: on the host (127.0.0.1), inside a Linux guest under QEMU microvm
// (Debian's kernel, an initramfs built here), inside Phoenix under QEMU microvm and inside
// Phoenix on its own VMM, the guests each on a TAP device of their own. The Linux guest is
// the baseline. Prints:
//   bench net config seconds=... connections=... threads=... qemu_accel=... kernel=...
//   bench net <subject> requests_per_s value=...
//   bench net <subject> p99_latency_ms value=...
//   bench net <subject> ready_ms value=...   (spawn to the first answer: a guest's boot)
//   bench net <subject> errors requests=... non_2xx=... socket=...
//   bench net ratio requests_per_s <subject>/linux_qemu=...
//   bench net ratio p99_latency <subject>/linux_qemu=...
//   bench net target requests_per_s <phoenix subject>/linux_qemu>=1 met=yes|no
// A subject that cannot run here says "bench net <subject> SKIPPED <why>"; one that should
// run but does not answer says "bench net <subject> FAILED <why>" and the exit status is 1.
// Without the privileges to create TAP devices: "bench net SKIP ..." and exit status 0.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>
#include <x86intrin.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/common/measure.h"
#include "bench/net/http_probe.h"
#include "bench/net/linux_guest.h"
#include "bench/net/process.h"
#include "bench/net/tap.h"
#include "bench/net/wrk.h"

namespace {

using namespace bench;
using namespace bench::net;

constexpr int kGuestPort = 8080;
constexpr const char* kBaseline = "linux_qemu";
constexpr const char* kGuestMemory = "256M";

struct Options {
    int seconds = 10;
    int connections = 8;
    int threads = 1;
    int boot_timeout_s = 120;
    std::string accel = "auto";  // QEMU's, for both QEMU subjects; the builtin VMM is KVM
    std::string kernel;          // the Linux guest's; default: the newest in /boot
    std::vector<std::string> subjects = {"host", "linux_qemu", "phoenix_qemu", "phoenix_builtin"};
    bool keep = false;  // keep the work directory (logs, initramfs) even when all went well
    std::string phx = PHX_BIN;
};

void usage() {
    std::fprintf(stderr,
                 "usage: bench_net [--seconds N] [--connections N] [--threads N] "
                 "[--accel auto|kvm|tcg] [--kernel VMLINUZ] [--boot-timeout S] "
                 "[--subjects host,linux_qemu,phoenix_qemu,phoenix_builtin] [--phx PATH] "
                 "[--keep]\n");
}

bool parse_options(int argc, char** argv, Options& options) {
    for (int i = 1; i < argc; ++i) {
        std::string flag = argv[i];
        if (flag == "--keep") {
            options.keep = true;
            continue;
        }
        if (flag == "-h" || flag == "--help" || i + 1 >= argc) return false;
        std::string value = argv[++i];
        int number = std::max(1, std::atoi(value.c_str()));
        if (flag == "--seconds")
            options.seconds = number;
        else if (flag == "--connections")
            options.connections = number;
        else if (flag == "--threads")
            options.threads = number;
        else if (flag == "--boot-timeout")
            options.boot_timeout_s = number;
        else if (flag == "--accel" && (value == "auto" || value == "kvm" || value == "tcg"))
            options.accel = value;
        else if (flag == "--kernel")
            options.kernel = value;
        else if (flag == "--phx")
            options.phx = value;
        else if (flag == "--subjects") {
            options.subjects.clear();
            for (size_t start = 0; start <= value.size();) {
                size_t comma = std::min(value.find(',', start), value.size());
                options.subjects.push_back(value.substr(start, comma - start));
                start = comma + 1;
            }
        } else
            return false;
    }
    options.connections = std::max(options.connections, options.threads);  // wrk's rule
    return true;
}

enum class Outcome { Measured, Skipped, Failed };

struct Subject {
    std::string name;
    Outcome outcome = Outcome::Skipped;
    std::string why;  // for Skipped and Failed
    WrkResult figures;
    double ready_ms = 0;  // from the spawn to the first 200 (for a guest: boot included)
};

// Everything one subject's run needs besides its own command.
struct Context {
    const Options& options;
    std::string work_dir;
    std::string qemu_accel;  // "kvm" or "tcg"
    LinuxKernel kernel;
    std::string kernel_error;
    bool kvm = false;
    bool phx_has_tap = false;
};

// A port on the host's loopback that nothing listens on right now.
int free_port() {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    int port = 0;
    if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
        port = ntohs(address.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

// The host's TSC rate in kHz, timed against CLOCK_MONOTONIC over 100 ms. Under TCG the guest
// reads the host's TSC; a loaded host can make Linux's own calibration against the PIT fail,
// and the kernel then hangs at boot with the TSC marked unstable (seen here), so the Linux
// guest is told the rate (tsc_early_khz=).
long host_tsc_khz() {
    auto start = Clock::now();
    uint64_t tsc_start = __rdtsc();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    uint64_t cycles = __rdtsc() - tsc_start;
    double ms = since(start);
    return long(double(cycles) / ms);
}

std::vector<std::string> qemu_accel_flags(const std::string& accel) {
    // -cpu host alone aborts on MSR 0x10a on nested-KVM hosts (phx/runners/qemu.cc).
    if (accel == "kvm") return {"-accel", "kvm", "-cpu", "host,-arch-capabilities"};
    return {"-accel", "tcg", "-cpu", "max"};
}

// The Linux guest's QEMU command: microvm with ACPI (Debian's cloud kernel finds virtio-mmio
// devices through ACPI only: no CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES), the modern virtio-mmio
// interface as Phoenix's QEMU runner asks for, one virtio-net on the TAP device.
std::vector<std::string> linux_command(const Context& context, const std::string& initramfs,
                                       const TapDevice& tap) {
    std::vector<std::string> args = {"qemu-system-x86_64",
                                     "-M",
                                     "microvm,x-option-roms=off,rtc=on",
                                     "-nodefaults",
                                     "-no-user-config",
                                     "-display",
                                     "none",
                                     "-no-reboot",
                                     "-m",
                                     kGuestMemory};
    for (auto& flag : qemu_accel_flags(context.qemu_accel)) args.push_back(flag);
    std::string cmdline = "console=ttyS0 panic=-1";
    if (context.qemu_accel == "tcg") cmdline += " tsc_early_khz=" + std::to_string(host_tsc_khz());
    args.insert(args.end(), {"-global", "virtio-mmio.force-legacy=false", "-serial", "stdio",
                             "-append", cmdline});
    args.insert(args.end(), {"-kernel", context.kernel.image, "-initrd", initramfs, "-netdev",
                             "tap,id=n0,ifname=" + tap.name() + ",script=no,downscript=no",
                             "-device", "virtio-net-device,netdev=n0"});
    return args;
}

// OPS's keys for a static guest address (docs/config.md, RunConfig).
std::string write_phoenix_config(const std::string& path, const Subnet& subnet) {
    std::ofstream out(path, std::ios::trunc);
    out << "{\n  \"RunConfig\": {\n    \"IPAddress\": \"" << subnet.guest()
        << "\",\n    \"NetMask\": \"" << Subnet::netmask() << "\",\n    \"Gateway\": \""
        << subnet.host() << "\"\n  }\n}\n";
    return out ? "" : "cannot write " + path;
}

std::vector<std::string> phoenix_command(const Context& context, const std::string& config,
                                         const TapDevice& tap, bool builtin) {
    std::vector<std::string> args = {
        context.options.phx, "run", PHX_HTTP_SERVER, "-c",           config,        "--tap",
        tap.name(),          "-m",  kGuestMemory,    "--no-restart", "--hypervisor"};
    if (builtin) {
        args.push_back("builtin");
    } else {
        args.insert(args.end(), {"qemu", "--accel", context.qemu_accel});
    }
    args.insert(args.end(), {"--", std::to_string(kGuestPort)});
    return args;
}

// Starts the server, waits until it answers, drives it with wrk, stops it.
void measure(Subject& subject, const Context& context, const std::vector<std::string>& command,
             const std::string& host, int port) {
    auto fail = [&](const std::string& why) {
        subject.outcome = Outcome::Failed;
        subject.why = why;
    };
    std::string log = context.work_dir + "/" + subject.name + ".log";
    {
        std::ofstream note(log, std::ios::trunc);
        for (const auto& arg : command) note << arg << ' ';
        note << '\n';
    }
    ServerProcess server;
    std::string error;
    auto started = Clock::now();
    if (!server.start(command, log, error)) return fail(error);
    std::string url = "http://" + host + ":" + std::to_string(port) + "/";
    ProbeResult probe = wait_until_answering(host, port, context.options.boot_timeout_s * 1000,
                                             [&] { return server.running(); });
    if (probe != ProbeResult::Answered) {
        std::string how = probe == ProbeResult::Exited
                              ? std::filesystem::path(command[0]).filename().string() + " " +
                                    server.exit_description() + " before answering"
                              : "no answer from " + url + " within " +
                                    std::to_string(context.options.boot_timeout_s) + " s";
        return fail(how + "; log " + log + ": " + last_lines(log, 4));
    }
    subject.ready_ms = since(started);
    std::string out;
    subject.figures = run_wrk(url, context.options.seconds, context.options.connections,
                              context.options.threads, out);
    std::ofstream(context.work_dir + "/" + subject.name + ".wrk") << out;
    bool alive = server.running();
    if (!subject.figures.ok) return fail(subject.figures.error + "; wrk said: " + out);
    if (subject.figures.requests == 0)
        return fail("no request completed in " + std::to_string(context.options.seconds) + " s" +
                    (alive ? "" : "; the server " + server.exit_description()));
    subject.outcome = Outcome::Measured;
}

void run_subject(Subject& subject, Context& context, std::vector<TapDevice>& taps,
                 size_t& next_tap) {
    if (subject.name == "host") {
        int port = free_port();
        return measure(subject, context, {PHX_HTTP_SERVER, std::to_string(port)}, "127.0.0.1",
                       port);
    }
    const TapDevice& tap = taps.at(next_tap++);
    std::string guest = tap.subnet().guest();
    if (subject.name == "linux_qemu") {
        if (!context.kernel_error.empty()) {
            subject.outcome = Outcome::Failed;
            subject.why = context.kernel_error;
            return;
        }
        std::string initramfs = context.work_dir + "/initramfs.cpio";
        GuestNetwork network = {guest, 24, tap.subnet().host(), kGuestPort};
        if (std::string error =
                write_initramfs(initramfs, context.kernel, PHX_BUSYBOX, PHX_HTTP_SERVER, network);
            !error.empty()) {
            subject.outcome = Outcome::Failed;
            subject.why = error;
            return;
        }
        return measure(subject, context, linux_command(context, initramfs, tap), guest, kGuestPort);
    }
    bool builtin = subject.name == "phoenix_builtin";
    if (!context.phx_has_tap) {
        subject.why = "phx run has no --tap here (Phoenix's networking is not in this build)";
        return;
    }
    if (builtin && !context.kvm) {
        subject.why = "/dev/kvm does not open read-write (the builtin VMM needs KVM)";
        return;
    }
    std::string config = context.work_dir + "/" + subject.name + ".json";
    if (std::string error = write_phoenix_config(config, tap.subnet()); !error.empty()) {
        subject.outcome = Outcome::Failed;
        subject.why = error;
        return;
    }
    measure(subject, context, phoenix_command(context, config, tap, builtin), guest, kGuestPort);
}

// phx run's flags in this build: the Phoenix subjects need --tap.
bool phx_has_tap(const std::string& phx) {
    Output help = capture({phx, "run", "--help"}, 30000);
    return help.out.find("--tap") != std::string::npos;
}

// On hosts whose KVM is kvm_pvm (docs/ARCHITECTURE.md, known host quirks) Debian's kernel
// cannot boot: ring-0 cmpxchg16b, XSAVE and the int3 self-test end the VM with emulation
// failures. Both QEMU subjects then use TCG, so they stay comparable.
std::string choose_qemu_accel(const std::string& accel, bool kvm, std::string& note) {
    if (accel != "auto") return accel;
    if (!kvm) {
        note = "no_kvm";
        return "tcg";
    }
    if (std::filesystem::exists("/sys/module/kvm_pvm")) {
        note = "kvm_pvm_host_linux_cannot_boot_under_kvm";
        return "tcg";
    }
    return "kvm";
}

void report(const std::vector<Subject>& subjects) {
    const Subject* baseline = nullptr;
    for (const auto& subject : subjects)
        if (subject.name == kBaseline && subject.outcome == Outcome::Measured) baseline = &subject;
    for (const auto& subject : subjects) {
        const char* name = subject.name.c_str();
        if (subject.outcome == Outcome::Skipped) {
            std::printf("bench net %s SKIPPED %s\n", name, subject.why.c_str());
            continue;
        }
        if (subject.outcome == Outcome::Failed) {
            std::printf("bench net %s FAILED %s\n", name, subject.why.c_str());
            continue;
        }
        const WrkResult& f = subject.figures;
        std::printf("bench net %s requests_per_s value=%.1f\n", name, f.requests_per_s);
        std::printf("bench net %s p99_latency_ms value=%.3f\n", name, f.p99_ms);
        std::printf("bench net %s ready_ms value=%.0f\n", name, subject.ready_ms);
        std::printf("bench net %s errors requests=%ld non_2xx=%ld socket=%ld\n", name, f.requests,
                    f.non_2xx, f.socket_errors);
    }
    if (!baseline) return;
    for (const auto& subject : subjects) {
        if (subject.outcome != Outcome::Measured || &subject == baseline) continue;
        const char* name = subject.name.c_str();
        double rps = subject.figures.requests_per_s / baseline->figures.requests_per_s;
        std::printf("bench net ratio requests_per_s %s/%s=%.3f\n", name, kBaseline, rps);
        std::printf("bench net ratio p99_latency %s/%s=%.3f\n", name, kBaseline,
                    subject.figures.p99_ms / baseline->figures.p99_ms);
        if (subject.name.rfind("phoenix", 0) == 0)
            std::printf("bench net target requests_per_s %s/%s>=1 met=%s\n", name, kBaseline,
                        rps >= 1 ? "yes" : "no");
    }
}

// Interrupted (Ctrl-C, a test's timeout): no VM or TAP device may outlive the benchmark.
void on_interrupt(int signal_number) {
    kill_servers();
    remove_taps();
    _exit(128 + signal_number);
}

// Runs are serialized (the TAP names are fixed, and two benchmarks on one machine would
// measure each other).
int lock_benchmark() {
    int fd = open("/tmp/phx-bench-net.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        std::fprintf(stderr, "bench net: waiting for another bench_net run to finish\n");
        flock(fd, LOCK_EX);
    }
    return fd;
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // in order with the progress lines on stderr
    Options options;
    if (!parse_options(argc, argv, options)) {
        usage();
        return 2;
    }
    std::vector<Subject> subjects;
    for (const auto& name : options.subjects) {
        if (name != "host" && name != "linux_qemu" && name != "phoenix_qemu" &&
            name != "phoenix_builtin") {
            std::fprintf(stderr, "bench_net: unknown subject %s\n", name.c_str());
            return 2;
        }
        subjects.push_back({name});
    }
    for (int signal_number : {SIGINT, SIGTERM, SIGHUP}) std::signal(signal_number, on_interrupt);
    int lock = lock_benchmark();
    char dir_template[] = "/tmp/phx-bench-net.XXXXXX";
    if (!mkdtemp(dir_template)) {
        std::perror("bench_net: mkdtemp");
        return 1;
    }
    Context context{options, dir_template};
    context.kvm = kvm_available();
    std::string note;
    context.qemu_accel = choose_qemu_accel(options.accel, context.kvm, note);
    context.kernel = find_linux_kernel(options.kernel, context.kernel_error);
    context.phx_has_tap = phx_has_tap(options.phx);

    // One TAP device per guest subject, all made before any runs so a host that forbids them
    // is a SKIP before anything was measured.
    std::vector<TapDevice> taps;
    int octet = 99;
    for (const auto& subject : subjects) {
        if (subject.name == "host") continue;
        octet = free_subnet(octet + 1);
        std::string error;
        bool denied = false;
        if (octet != 0)
            taps.push_back(
                TapDevice::create("phxbn" + std::to_string(taps.size()), {octet}, error, denied));
        else
            error = "no free 192.168.X.0/24 for a TAP device";
        if (octet == 0 || !taps.back().valid()) {
            if (denied)
                std::printf(
                    "bench net SKIP: no TAP devices without root (CAP_NET_ADMIN and "
                    "/dev/net/tun): %s\n",
                    error.c_str());
            else
                std::printf("bench net error: %s\n", error.c_str());
            taps.clear();
            std::filesystem::remove_all(context.work_dir);
            return denied ? 0 : 1;
        }
    }

    std::printf(
        "bench net config seconds=%d connections=%d threads=%d qemu_accel=%s%s%s kvm=%s "
        "kernel=%s memory=%s\n",
        options.seconds, options.connections, options.threads, context.qemu_accel.c_str(),
        note.empty() ? "" : " note=", note.c_str(), context.kvm ? "yes" : "no",
        context.kernel.image.empty() ? "none" : context.kernel.image.c_str(), kGuestMemory);
    std::fflush(stdout);
    size_t next_tap = 0;
    for (auto& subject : subjects) {
        run_subject(subject, context, taps, next_tap);
        std::fprintf(stderr, "bench net: %s %s\n", subject.name.c_str(),
                     subject.outcome == Outcome::Measured ? "measured"
                     : subject.outcome == Outcome::Failed ? "failed"
                                                          : "skipped");
    }
    taps.clear();  // every VM has stopped: the devices are free
    report(subjects);
    bool failed = std::any_of(subjects.begin(), subjects.end(),
                              [](const Subject& s) { return s.outcome == Outcome::Failed; });
    if (failed || options.keep)
        std::printf("bench net logs %s\n", context.work_dir.c_str());
    else
        std::filesystem::remove_all(context.work_dir);
    if (lock >= 0) close(lock);
    return failed ? 1 : 0;
}
