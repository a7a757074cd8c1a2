// Runs build/phx/phx as a child process and captures what it printed and how it ended, with a
// hard timeout so that a hung VM fails one test instead of the whole run.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace phx_test {

inline constexpr int kDefaultTimeoutSeconds = 60;

struct PhxCall {
    std::vector<std::string> args;  // after "phx"
    // Environment changes on top of the test's own environment; nullopt removes the variable.
    std::map<std::string, std::optional<std::string>> env;
    int timeout_seconds = kDefaultTimeoutSeconds;
    // phx's working directory ("" for the test's own): relative config paths start here.
    std::string cwd;
    // phx's stdin: these bytes, then end of file (/dev/null when empty).
    std::string input;
    // When set, `signal` is sent to phx once its stdout contains this text.
    std::string signal_after_output;
    int signal = 0;
};

struct Outcome {
    int status = -1;         // exit status; -1 when phx was killed by a signal
    bool timed_out = false;  // killed by the helper after the timeout
    std::string out;
    std::string err;
};

Outcome run_phx(const PhxCall& call);
Outcome run_phx(const std::vector<std::string>& args, int timeout_seconds = kDefaultTimeoutSeconds);

// Paths of the things the tests run (build tree).
std::string guest(const std::string& name);        // build/tests/guest/NAME
std::string stub_kernel(const std::string& name);  // a stand-in kernel (stub_kernels/)
// A new empty directory under $TMPDIR (left behind for inspection; /tmp is cleaned by CI).
std::string temp_dir(const std::string& prefix);

// Where a VM runs in a parameterized test: "builtin" (Phoenix's VMM on KVM), "qemu-kvm",
// "qemu-tcg". The KVM ones are skipped on hosts without a usable /dev/kvm.
bool kvm_available();
bool target_needs_kvm(const std::string& target);
// The phx run flags that select the target: --hypervisor and --accel.
std::vector<std::string> target_args(const std::string& target);

}  // namespace phx_test
