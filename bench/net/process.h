// A server process for bench/net: started in its own process group (so a VM and whatever
// phx spawned under it go together), its output in a log file, stopped by the destructor.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace bench::net {

class ServerProcess {
public:
    ServerProcess() = default;
    ~ServerProcess() { stop(); }
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    // Starts args with stdin on /dev/null and stdout and stderr appended to log_path; false
    // (and `error`) when it could not be started.
    bool start(const std::vector<std::string>& args, const std::string& log_path,
               std::string& error);
    // Whether it is still running; once it has ended, exit_description() says how.
    bool running();
    std::string exit_description() const;
    // SIGTERM to the process group, SIGKILL after a grace period; waits for the leader.
    void stop();

    const std::string& log_path() const { return m_log_path; }

private:
    pid_t m_pid = -1;
    int m_status = 0;
    bool m_reaped = false;
    std::string m_log_path;
};

// SIGKILL to every server's process group that is running now; async-signal-safe (for a
// benchmark that is interrupted).
void kill_servers();

// The last `count` non-empty lines of a file, joined by " | " (for failure messages).
std::string last_lines(const std::string& path, int count);

}  // namespace bench::net
