// Running the kernel under QEMU: spawn, forward signals, wait, read the status channel.
#include "phx/runners/qemu.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "phx/error.h"

extern char** environ;

namespace phx {

namespace {

pid_t g_child = -1;

void forward_signal(int signal) {
    if (g_child > 0) kill(g_child, signal);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

bool kvm_usable() {
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) return false;
    close(fd);
    return true;
}

std::vector<std::string> QemuRunner::command_line(const RunSpec& spec, bool use_kvm,
                                                  const std::string& status_path) {
    std::vector<std::string> args = {
        "qemu-system-x86_64",
        "-M", "microvm,x-option-roms=off,rtc=on",
        "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
        "-m", std::to_string(spec.memory_mib) + "M",
        "-kernel", spec.kernel_path,
        "-initrd", spec.manifest_path,
        "-chardev", "stdio,id=console,signal=on",
        "-serial", "chardev:console",
        "-debugcon", "file:" + status_path,
        "-global", "isa-debugcon.iobase=0x402",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
    };
    if (use_kvm) {
        // -cpu host aborts on MSR 0x10a (IA32_ARCH_CAPABILITIES) on these hosts.
        args.insert(args.end(), {"-accel", "kvm", "-cpu", "host,-arch-capabilities"});
    } else {
        args.insert(args.end(), {"-accel", "tcg", "-cpu", "max"});
    }
    return args;
}

int interpret_status(const std::string& status_text, int qemu_exit_code) {
    std::istringstream lines(status_text);
    std::string line, last;
    while (std::getline(lines, line))
        if (!line.empty()) last = line;
    if (last == "panic") throw PhxError(kExitVmFailed, "the Phoenix kernel panicked (see above)");
    if (last.rfind("exit ", 0) == 0) {
        int status = std::atoi(last.c_str() + 5);
        if (status >= 0 && status <= 255) return status;
    }
    // No status line: isa-debug-exit's (word << 1) | 1 still carries the low 7 bits.
    if (qemu_exit_code > 0 && (qemu_exit_code & 1)) return (qemu_exit_code - 1) / 2;
    throw PhxError(kExitVmFailed, "the VM stopped without reporting a status (QEMU exit code " +
                                      std::to_string(qemu_exit_code) + ")");
}

int QemuRunner::run(const RunSpec& spec) {
    bool use_kvm = spec.accel == Accel::Kvm || (spec.accel == Accel::Auto && kvm_usable());
    if (spec.accel == Accel::Kvm && !kvm_usable())
        throw PhxError(kExitUsage, "--accel kvm: /dev/kvm is missing or not accessible");
    std::string status_path = spec.work_dir + "/status";
    auto args = command_line(spec, use_kvm, status_path);
    if (spec.verbose) {
        std::cerr << "phx: accelerator " << (use_kvm ? "kvm" : "tcg") << "\nphx:";
        for (const auto& a : args) std::cerr << ' ' << a;
        std::cerr << '\n';
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    pid_t pid;
    int spawned = posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
    if (spawned != 0)
        throw PhxError(kExitVmFailed, std::string("cannot start qemu-system-x86_64: ") +
                                          std::strerror(spawned) +
                                          " (install Debian's qemu-system-x86)");
    g_child = pid;
    struct sigaction forward = {};
    forward.sa_handler = forward_signal;
    sigaction(SIGINT, &forward, nullptr);
    sigaction(SIGTERM, &forward, nullptr);
    int wait_status = 0;
    while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
    }
    g_child = -1;
    int code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
    return interpret_status(read_file(status_path), code);
}

}  // namespace phx
