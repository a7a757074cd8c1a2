// Rebirth: which endings of the program reboot the VM and which power it off, per the
// config's RebootOnExit / RestartPolicy / ManifestPassthrough exit keys, on our VMM and
// under QEMU. tests/guest/die.c ends itself the way each case asks; a rebooting case runs
// with --max-restarts 1, so it boots exactly twice and phx then reports the restart limit.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <string>
#include <vector>

#include "tests/integration/phx_process.h"

namespace {

using phx_test::Outcome;
using phx_test::PhxCall;

constexpr int kVmFailed = 125;

size_t count_of(const std::string& text, const std::string& needle) {
    size_t count = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
    return count;
}

class Rebirth : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (phx_test::target_needs_kvm(GetParam()) && !phx_test::kvm_available())
            GTEST_SKIP() << "no usable /dev/kvm";
        home = phx_test::temp_dir("phx-home");
    }

    // Runs die MODE with config.json holding `config` ("" for no config).
    Outcome run(const std::string& config, const std::string& mode, std::vector<std::string> extra = {}) {
        PhxCall call;
        call.args = {"run"};
        for (auto& arg : phx_test::target_args(GetParam())) call.args.push_back(arg);
        if (!config.empty()) {
            std::string path = home + "/config.json";
            std::ofstream(path) << config;
            call.args.insert(call.args.end(), {"-c", path});
        }
        call.args.insert(call.args.end(), {"--no-net", "--max-restarts", "1", "--restart-window", "0",
                                           "--restart-backoff", "0"});
        for (auto& arg : extra) call.args.push_back(arg);
        call.args.insert(call.args.end(), {phx_test::guest("die"), "--", mode});
        call.env["PHX_HOME"] = home;
        call.timeout_seconds = 100;
        return phx_test::run_phx(call);
    }

    // The VM rebooted once, the second boot ended the same way, and the limit stopped the run.
    void expect_reboots(const Outcome& r, const std::string& mode) {
        EXPECT_EQ(r.status, kVmFailed) << r.out << r.err;
        EXPECT_EQ(count_of(r.out, "die: " + mode + "\r\n"), 2u) << r.out << r.err;
        EXPECT_NE(r.err.find("reboot 1:"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("kept resetting"), std::string::npos) << r.err;
    }
    void expect_powers_off(const Outcome& r, const std::string& mode, int status) {
        EXPECT_EQ(r.status, status) << r.out << r.err;
        EXPECT_EQ(count_of(r.out, "die: " + mode + "\r\n"), 1u) << r.out << r.err;
        EXPECT_EQ(r.err.find("reboot 1:"), std::string::npos) << r.err;
    }

    std::string home;
};

struct Ending {
    const char* mode;
    int status;  // the exit status when the VM powers off
};
constexpr Ending kFailures[] = {{"exit3", 3},  {"segv", 139}, {"abort", 134},
                                {"cli", 139},  {"hlt", 139},  {"ud2", 132}};

TEST_P(Rebirth, WithoutRebootOnExitEveryEndingPowersOff) {
    expect_powers_off(run("", "exit0"), "exit0", 0);
    for (const Ending& ending : kFailures) {
        SCOPED_TRACE(ending.mode);
        expect_powers_off(run("", ending.mode), ending.mode, ending.status);
    }
}

TEST_P(Rebirth, RebootOnExitTrueRebootsOnEveryFailureOnly) {
    const std::string config = R"({"RebootOnExit": true})";
    expect_powers_off(run(config, "exit0"), "exit0", 0);
    for (const Ending& ending : kFailures) {
        SCOPED_TRACE(ending.mode);
        expect_reboots(run(config, ending.mode), ending.mode);
    }
}

TEST_P(Rebirth, AKernelPanicCountsAsAFailure) {
    // The debug switches that break the kernel before the program starts: a ring-0 page fault
    // and an explicit panic(). Each kernel's report contains "backtrace:" once.
    for (const char* selftest : {"kernel-fault", "panic"}) {
        SCOPED_TRACE(selftest);
        std::vector<std::string> breaks = {"--kernel-arg", std::string("phx.selftest=") + selftest};
        auto off = run("", "exit0", breaks);
        EXPECT_EQ(off.status, kVmFailed) << off.out << off.err;
        EXPECT_NE(off.err.find("panicked"), std::string::npos) << off.err;
        EXPECT_EQ(off.err.find("reboot 1:"), std::string::npos) << off.err;
        auto on = run(R"({"RebootOnExit": true})", "exit0", breaks);
        EXPECT_EQ(on.status, kVmFailed) << on.out << on.err;
        EXPECT_EQ(count_of(on.out, "backtrace:"), 2u) << on.out;
        EXPECT_EQ(count_of(on.out, "kernel panic: rebooting"), 2u) << on.out;
        EXPECT_NE(on.err.find("kept resetting"), std::string::npos) << on.err;
        // A status list never matches a panic.
        auto listed = run(R"({"RebootOnExit": [3]})", "exit0", breaks);
        EXPECT_EQ(count_of(listed.out, "backtrace:"), 1u) << listed.out;
        EXPECT_NE(listed.err.find("panicked"), std::string::npos) << listed.err;
    }
}

TEST_P(Rebirth, NanosFormsSelectStatuses) {
    expect_reboots(run(R"({"RebootOnExit": "*"})", "exit0"), "exit0");
    expect_reboots(run(R"({"RebootOnExit": [3, 4]})", "exit3"), "exit3");
    expect_powers_off(run(R"({"RebootOnExit": [3, 4]})", "segv"), "segv", 139);
    expect_reboots(run(R"({"RebootOnExit": "!0"})", "segv"), "segv");
    expect_powers_off(run(R"({"RebootOnExit": "!139"})", "segv"), "segv", 139);
    expect_reboots(run(R"({"RebootOnExit": 3})", "exit3"), "exit3");
}

TEST_P(Rebirth, ExpectedExitCodeCountsAsSuccess) {
    const std::string config = R"({"RebootOnExit": true, "ManifestPassthrough": {"expected_exit_code": 3}})";
    expect_powers_off(run(config, "exit3"), "exit3", 0);
    expect_reboots(run(config, "segv"), "segv");
}

TEST_P(Rebirth, RestartPolicySpellsTheCommonCases) {
    expect_reboots(run(R"({"RestartPolicy": "always"})", "exit0"), "exit0");
    expect_powers_off(run(R"({"RestartPolicy": "on-failure"})", "exit0"), "exit0", 0);
    expect_reboots(run(R"({"RestartPolicy": "on-failure"})", "abort"), "abort");
    expect_powers_off(run(R"({"RestartPolicy": "never"})", "abort"), "abort", 134);
    auto clash = run(R"({"RestartPolicy": "never", "RebootOnExit": true})", "exit0");
    EXPECT_EQ(clash.status, 2) << clash.err;
    EXPECT_NE(clash.err.find("RestartPolicy \"never\" and RebootOnExit disagree"), std::string::npos) << clash.err;
}

TEST_P(Rebirth, IdleOnExitHaltsWithoutPoweringOff) {
    PhxCall call;
    call.args = {"run"};
    for (auto& arg : phx_test::target_args(GetParam())) call.args.push_back(arg);
    std::string path = home + "/config.json";
    std::ofstream(path) << R"({"ManifestPassthrough": {"idle_on_exit": true}})";
    call.args.insert(call.args.end(), {"-c", path, "--no-net", phx_test::guest("die"), "--", "exit5"});
    call.env["PHX_HOME"] = home;
    call.signal_after_output = "idling (idle_on_exit)";
    call.signal = SIGINT;
    call.timeout_seconds = 100;
    auto r = phx_test::run_phx(call);
    EXPECT_FALSE(r.timed_out) << r.out << r.err;
    EXPECT_EQ(r.status, 130) << r.out << r.err;  // still running until phx was interrupted
    EXPECT_NE(r.out.find("exit status 5: idling"), std::string::npos) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Target, Rebirth, ::testing::Values("builtin", "qemu-tcg"));

}  // namespace
