// The VMM's top level: boots the kernel in a fresh VM, and whenever the guest resets, throws
// that VM away and builds a new one (fresh memory, nothing carried over), as the restart
// policy allows. Owns what lives across boots: /dev/kvm, the parsed kernel, the console input
// thread, and the SIGINT/SIGTERM handling that stops the run.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "vmm/error.h"
#include "vmm/net/backend.h"
#include "vmm/net/port_forward.h"
#include "vmm/restart_policy.h"

namespace vmm {

struct RunRequest {
    std::string kernel_path;
    std::vector<std::byte> manifest;  // PVH module 0; empty: none (the kernel reads the disk)
    // The kernel ELF's bytes, used instead of kernel_path when not empty (from the image).
    std::vector<std::byte> kernel_bytes;
    std::string disk_path;            // a Phoenix disk image, attached read-only; "" for none
    std::string cmdline;              // extra kernel command-line words
    // The network: one backend for the whole run (its forwarded ports stay bound across
    // reboots), attached to each VM's virtio-net in turn. An all-zero MAC: a random one.
    net::NetConfig net;
    net::MacAddress mac{};
    uint64_t memory_bytes = 1024ull << 20;
    bool huge_pages = true;
    RestartPolicy policy;
    int console_fd = 1;  // the guest's serial output
    int input_fd = 0;    // the guest's serial input; -1 for none
    // One line per event worth telling the user (each reboot with its number and duration).
    std::function<void(const std::string&)> log;
    // Lines only a verbose run shows (the first boot's start).
    std::function<void(const std::string&)> log_detail;
    // Add the host process's fds, RSS and threads to every reboot line (leak hunting).
    bool host_stats = false;
    // Crash reports seen on the console are kept in this directory, the newest
    // `keep_crash_reports` of them (vmm/crash_log.h); "" keeps none.
    std::string crash_log_dir;
    uint32_t keep_crash_reports = 10;
};

enum class RunEnd : uint8_t {
    Exited,        // the kernel powered off with the program's status
    Panicked,      // the kernel reported a panic
    ResetStopped,  // the guest reset and the policy said not to restart
    RestartLimit,  // the guest kept resetting past the policy's limit
    Interrupted,   // SIGINT/SIGTERM stopped the run
};

struct RunOutcome {
    RunEnd end = RunEnd::Exited;
    int status = 0;  // Exited: the program's status; Interrupted: the signal
    uint32_t boots = 0;
};

Expected<RunOutcome> run_vm(const RunRequest& request);

// Snapshot of the host process's resources, for the soak test and --verbose reboot lines.
struct HostStats {
    long open_fds = -1;
    long rss_kib = -1;
    long threads = -1;
};
HostStats host_stats();

}  // namespace vmm
