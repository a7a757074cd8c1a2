// fork/execve of phx with stdout and stderr captured through pipes and a wall-clock timeout.
#include "tests/integration/phx_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

extern char** environ;

namespace phx_test {

namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> child_environment(const PhxCall& call) {
    std::vector<std::string> env;
    for (char** entry = environ; *entry; ++entry) {
        std::string text = *entry;
        std::string key = text.substr(0, text.find('='));
        if (!call.env.count(key)) env.push_back(text);
    }
    for (const auto& [key, value] : call.env)
        if (value) env.push_back(key + "=" + *value);
    // phx run keeps crash reports under $XDG_STATE_HOME: one directory per test process,
    // never the user's ~/.local/state, unless the test sets it.
    static const std::string state = temp_dir("phx-state");
    if (!call.env.count("XDG_STATE_HOME")) env.push_back("XDG_STATE_HOME=" + state);
    return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> result;
    for (auto& s : strings) result.push_back(s.data());
    result.push_back(nullptr);
    return result;
}

}  // namespace

bool kvm_available() {
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) return false;
    close(fd);
    return true;
}

bool target_needs_kvm(const std::string& target) { return target != "qemu-tcg"; }

std::vector<std::string> target_args(const std::string& target) {
    if (target == "builtin") return {"--hypervisor", "builtin"};
    if (target == "qemu-kvm") return {"--hypervisor", "qemu", "--accel", "kvm"};
    return {"--hypervisor", "qemu", "--accel", "tcg"};
}

std::string guest(const std::string& name) { return std::string(PHX_GUEST_DIR) + "/" + name; }
std::string temp_dir(const std::string& prefix) {
    const char* tmp = getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + "-XXXXXX";
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    if (!mkdtemp(name.data())) return "/nonexistent";
    return name.data();
}

std::string stub_kernel(const std::string& name) {
    return std::string(PHX_STUB_KERNEL_DIR) + "/" + name + ".elf";
}

Outcome run_phx(const std::vector<std::string>& args, int timeout_seconds) {
    PhxCall call;
    call.args = args;
    call.timeout_seconds = timeout_seconds;
    return run_phx(call);
}

Outcome run_phx(const PhxCall& call) {
    std::vector<std::string> argv_strings = {PHX_BIN};
    argv_strings.insert(argv_strings.end(), call.args.begin(), call.args.end());
    std::vector<std::string> env_strings = child_environment(call);
    auto argv = pointers(argv_strings);
    auto envp = pointers(env_strings);

    Outcome outcome;
    int out_pipe[2], err_pipe[2], in_pipe[2] = {-1, -1};
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) return outcome;
    // Small inputs fit the pipe's buffer: written whole before phx starts, then closed.
    if (!call.input.empty()) {
        if (pipe2(in_pipe, O_CLOEXEC) != 0) return outcome;
        if (write(in_pipe[1], call.input.data(), call.input.size()) != ssize_t(call.input.size()))
            return outcome;
        close(in_pipe[1]);
    }
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);  // phx and its QEMU in one group, so a timeout can kill both
        if (!call.cwd.empty() && chdir(call.cwd.c_str()) != 0) _exit(126);
        int in_fd = in_pipe[0] >= 0 ? in_pipe[0] : open("/dev/null", O_RDONLY);
        dup2(in_fd, 0);
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        execve(argv[0], argv.data(), envp.data());
        _exit(127);
    }
    setpgid(pid, pid);  // also here: whichever of parent and child runs first wins the race
    if (in_pipe[0] >= 0) close(in_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[1]);

    auto deadline = Clock::now() + std::chrono::seconds(call.timeout_seconds);
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    bool signalled = false;
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            kill(-pid, SIGKILL);
            outcome.timed_out = true;
            break;
        }
        if (poll(fds, 2, int(left.count())) <= 0) continue;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buffer[4096];
            ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
            if (n <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;  // poll() ignores negative descriptors
                continue;
            }
            (i == 0 ? outcome.out : outcome.err).append(buffer, size_t(n));
        }
        if (!signalled && call.signal != 0 && !call.signal_after_output.empty() &&
            outcome.out.find(call.signal_after_output) != std::string::npos) {
            kill(pid, call.signal);
            signalled = true;
        }
    }
    for (auto& fd : fds)
        if (fd.fd >= 0) close(fd.fd);
    int status = 0;
    waitpid(pid, &status, 0);
    outcome.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return outcome;
}

}  // namespace phx_test
