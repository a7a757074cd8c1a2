// posix_spawnp with race-free signal forwarding: SIGINT and SIGTERM stay blocked from before
// the spawn until the child's pid is known, so a signal in that window is delivered (and
// forwarded) right after, not lost and not fatal to phx with the child left running.
#include "phx/runners/child_process.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <system_error>

extern char** environ;

namespace phx {

namespace {

volatile sig_atomic_t g_child = 0;
volatile sig_atomic_t g_forwarded = 0;

void forward_signal(int signal) {
    g_forwarded = signal;
    if (g_child > 0) kill(pid_t(g_child), signal);
}

// Installs the forwarding handlers and blocks the signals; the destructor restores both.
class SignalForwarding {
public:
    SignalForwarding() {
        sigemptyset(&m_signals);
        sigaddset(&m_signals, SIGINT);
        sigaddset(&m_signals, SIGTERM);
        sigprocmask(SIG_BLOCK, &m_signals, &m_old_mask);
        struct sigaction action = {};
        action.sa_handler = forward_signal;
        sigemptyset(&action.sa_mask);
        sigaction(SIGINT, &action, &m_old_int);
        sigaction(SIGTERM, &action, &m_old_term);
        g_forwarded = 0;
    }
    ~SignalForwarding() {
        sigprocmask(SIG_BLOCK, &m_signals, nullptr);
        g_child = 0;
        sigaction(SIGINT, &m_old_int, nullptr);
        sigaction(SIGTERM, &m_old_term, nullptr);
        sigprocmask(SIG_SETMASK, &m_old_mask, nullptr);
    }
    SignalForwarding(const SignalForwarding&) = delete;
    SignalForwarding& operator=(const SignalForwarding&) = delete;

    const sigset_t& signals() const { return m_signals; }
    const sigset_t& old_mask() const { return m_old_mask; }
    // From here on a pending or new signal reaches the child.
    void start(pid_t child) {
        g_child = child;
        sigprocmask(SIG_UNBLOCK, &m_signals, nullptr);
    }

private:
    sigset_t m_signals;
    sigset_t m_old_mask;
    struct sigaction m_old_int = {};
    struct sigaction m_old_term = {};
};

// The child starts with phx's original signal mask and default SIGINT/SIGTERM actions.
class SpawnAttributes {
public:
    explicit SpawnAttributes(const SignalForwarding& forwarding) {
        posix_spawnattr_init(&m_attr);
        posix_spawnattr_setsigmask(&m_attr, &forwarding.old_mask());
        posix_spawnattr_setsigdefault(&m_attr, &forwarding.signals());
        posix_spawnattr_setflags(&m_attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    }
    ~SpawnAttributes() { posix_spawnattr_destroy(&m_attr); }
    SpawnAttributes(const SpawnAttributes&) = delete;
    SpawnAttributes& operator=(const SpawnAttributes&) = delete;
    const posix_spawnattr_t* get() const { return &m_attr; }

private:
    posix_spawnattr_t m_attr;
};

}  // namespace

ChildExit spawn_and_wait(const std::vector<std::string>& argv) {
    std::vector<std::string> copy = argv;
    std::vector<char*> pointers;
    for (auto& arg : copy) pointers.push_back(arg.data());
    pointers.push_back(nullptr);

    SignalForwarding forwarding;
    SpawnAttributes attributes(forwarding);
    pid_t pid = 0;
    int spawned =
        posix_spawnp(&pid, pointers[0], nullptr, attributes.get(), pointers.data(), environ);
    if (spawned != 0) throw std::system_error(spawned, std::generic_category(), argv[0]);
    forwarding.start(pid);

    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "waitpid");
    }
    ChildExit result;
    if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result.killed_by = WTERMSIG(status);
    result.forwarded_signal = g_forwarded;
    return result;
}

}  // namespace phx
