// Running a hypervisor as a child process that shares phx's terminal: stdin, stdout and stderr
// are inherited, and SIGINT/SIGTERM sent to phx are passed on to the child while it runs.
#pragma once

#include <string>
#include <vector>

namespace phx {

struct ChildExit {
    int exit_code = -1;        // WEXITSTATUS, or -1 when a signal killed the child
    int killed_by = 0;         // the signal that killed the child, or 0
    int forwarded_signal = 0;  // the last SIGINT/SIGTERM phx passed on to the child, or 0
};

// Spawns argv (argv[0] found on $PATH, no shell) and waits for it. Throws std::system_error
// when it cannot be started (ENOENT when argv[0] is not installed).
ChildExit spawn_and_wait(const std::vector<std::string>& argv);

}  // namespace phx
