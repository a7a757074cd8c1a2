// Server processes: fork + exec rather than posix_spawn, for the process group and for
// PR_SET_PDEATHSIG (a killed benchmark does not leave a VM running behind it).
#include "bench/net/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

namespace bench::net {

namespace {

// The process groups of the servers running now, for kill_servers() (a signal handler's).
constexpr int kMaxGroups = 8;
std::atomic<pid_t> g_groups[kMaxGroups];

void remember_group(pid_t group, pid_t replacing) {
    for (auto& slot : g_groups) {
        pid_t expected = replacing;
        if (slot.compare_exchange_strong(expected, group)) return;
    }
}

}  // namespace

void kill_servers() {
    for (auto& slot : g_groups)
        if (pid_t group = slot.load(); group > 0) kill(-group, SIGKILL);
}

bool ServerProcess::start(const std::vector<std::string>& args, const std::string& log_path,
                          std::string& error) {
    m_log_path = log_path;
    int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int report[2];  // exec's errno, when exec fails; closed by a successful exec
    if (log < 0 || null < 0 || pipe2(report, O_CLOEXEC) != 0) {
        error = "cannot open " + log_path + ": " + std::strerror(errno);
        return false;
    }
    std::vector<char*> argv;
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        dup2(null, 0);
        dup2(log, 1);
        dup2(log, 2);
        execvp(argv[0], argv.data());
        int code = errno;
        (void)!write(report[1], &code, sizeof code);
        _exit(127);
    }
    close(report[1]);
    close(log);
    close(null);
    if (pid < 0) {
        close(report[0]);
        error = std::string("fork: ") + std::strerror(errno);
        return false;
    }
    setpgid(pid, pid);  // also here, so the group exists before we could signal it
    m_pid = pid;
    remember_group(pid, 0);
    m_reaped = false;
    int code = 0;
    ssize_t n = read(report[0], &code, sizeof code);
    close(report[0]);
    if (n == sizeof code) {
        stop();
        error = "cannot run " + args[0] + ": " + std::strerror(code);
        return false;
    }
    return true;
}

bool ServerProcess::running() {
    if (m_pid <= 0 || m_reaped) return false;
    if (waitpid(m_pid, &m_status, WNOHANG) == m_pid) m_reaped = true;
    return !m_reaped;
}

std::string ServerProcess::exit_description() const {
    if (!m_reaped) return "still running";
    if (WIFEXITED(m_status)) return "exited with status " + std::to_string(WEXITSTATUS(m_status));
    if (WIFSIGNALED(m_status)) return std::string("killed by ") + strsignal(WTERMSIG(m_status));
    return "ended";
}

void ServerProcess::stop() {
    if (m_pid <= 0) return;
    // The whole group: phx's QEMU or VMM threads, the guest's console pipe readers.
    kill(-m_pid, SIGTERM);
    for (int i = 0; i < 50 && running(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    kill(-m_pid, SIGKILL);
    if (!m_reaped) waitpid(m_pid, &m_status, 0);
    m_reaped = true;
    remember_group(0, m_pid);
    m_pid = -1;
}

std::string last_lines(const std::string& path, int count) {
    std::ifstream file(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(file, line);) {
        while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
        if (!line.empty()) lines.push_back(line);
    }
    std::string joined;
    for (size_t i = lines.size() > size_t(count) ? lines.size() - size_t(count) : 0;
         i < lines.size(); ++i)
        joined += (joined.empty() ? "" : " | ") + lines[i];
    return joined.empty() ? "(no output)" : joined;
}

}  // namespace bench::net
