// Signals on every target: tests/guest/signal_edges.c (FP state around handlers, rt_sigreturn
// refusing privilege and bad frames, SA_RESTART, signalfd, timer overruns, process-directed
// routing...), and the ways a signal ends a program: a core-dumping one with the crash report,
// a terminating one with its one-line message, a fault whose signal is blocked.
#include <gtest/gtest.h>

#include "tests/integration/phx_process.h"

namespace {

using phx_test::guest;
using phx_test::Outcome;
using phx_test::PhxCall;
using phx_test::run_phx;

class Signals : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (phx_test::target_needs_kvm(GetParam()) && !phx_test::kvm_available())
            GTEST_SKIP() << "no usable /dev/kvm";
        home = phx_test::temp_dir("phx-home");
    }
    Outcome run(const std::string& program, const std::vector<std::string>& program_args = {}) {
        PhxCall call;
        call.args = {"run"};
        for (auto& arg : phx_test::target_args(GetParam())) call.args.push_back(arg);
        call.args.push_back(guest(program));
        if (!program_args.empty()) call.args.push_back("--");
        for (auto& arg : program_args) call.args.push_back(arg);
        call.env["PHX_HOME"] = home;
        call.timeout_seconds = 100;
        return run_phx(call);
    }
    std::string home;
};

TEST_P(Signals, EdgesBehaveAsOnLinux) {
    auto r = run("signal_edges");
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("signal edges ok"), std::string::npos) << r.out << r.err;
    EXPECT_EQ(r.out.find("FAILED"), std::string::npos) << r.out;
}

TEST_P(Signals, AbortPrintsTheCrashReportAndExits134) {
    auto r = run("signal_edges", {"abort"});
    EXPECT_EQ(r.status, 134) << r.out << r.err;
    EXPECT_NE(r.out.find("*** SIGABRT in /signal_edges"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("RIP:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("exit status 134 (128 + SIGABRT)"), std::string::npos) << r.out;
}

TEST_P(Signals, SigtermKillsWithOneLineAndExits143) {
    auto r = run("signal_edges", {"term"});
    EXPECT_EQ(r.status, 143) << r.out << r.err;
    EXPECT_NE(r.out.find("*** program killed by signal 15 (SIGTERM) ***"), std::string::npos)
        << r.out;
    EXPECT_EQ(r.out.find("RIP:"), std::string::npos) << r.out;
}

TEST_P(Signals, FaultWithItsSignalBlockedIsFatalDespiteTheHandler) {
    auto r = run("signal_edges", {"segv-blocked"});
    EXPECT_EQ(r.status, 139) << r.out << r.err;
    EXPECT_NE(r.out.find("*** SIGSEGV in /signal_edges"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("fault address: 0x0000000000000008"), std::string::npos) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Target, Signals, ::testing::Values("builtin", "qemu-kvm", "qemu-tcg"));

}  // namespace
