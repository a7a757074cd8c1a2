// Waiting on many things on every target: tests/guest/readiness.c (pipes, eventfd, timerfd,
// poll/ppoll/select/pselect6 over 1000 descriptors, epoll) must exit 0 with "readiness ok";
// SIGPIPE's default action must end the program (status 141); the console must serve as a
// pollable stdin and a reader blocked on an idle one must leave the CPU to other threads.
// Under QEMU TCG the guest clock runs far from real time (its TSC is calibrated against a
// PIT without its gate), so there the program checks that nothing is early, not how late.
#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <vector>

#include "tests/integration/phx_process.h"

namespace {

using phx_test::guest;
using phx_test::Outcome;
using phx_test::PhxCall;
using phx_test::run_phx;

constexpr int kTimeoutSeconds = 110;  // under ctest's 120 s: a hung guest shows its output

class Readiness : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (phx_test::target_needs_kvm(GetParam()) && !phx_test::kvm_available())
            GTEST_SKIP() << "no usable /dev/kvm";
        home = phx_test::temp_dir("phx-home");
    }
    // `mode` and, under TCG, "untimed" for the checks that read the clock.
    Outcome run(const std::string& mode, const std::string& input = "", bool timed = false) {
        PhxCall call;
        call.args = {"run"};
        for (auto& arg : phx_test::target_args(GetParam())) call.args.push_back(arg);
        call.args.push_back(guest("readiness"));
        std::vector<std::string> program_args;
        if (!mode.empty()) program_args.push_back(mode);
        if (timed && GetParam() == "qemu-tcg") program_args.push_back("untimed");
        if (!program_args.empty()) call.args.push_back("--");
        call.args.insert(call.args.end(), program_args.begin(), program_args.end());
        call.env["PHX_HOME"] = home;
        call.input = input;
        call.timeout_seconds = kTimeoutSeconds;
        auto r = run_phx(call);
        EXPECT_FALSE(r.timed_out) << "still running after " << kTimeoutSeconds << " s:\n"
                                  << r.out << r.err;
        return r;
    }
    std::string home;
};

TEST_P(Readiness, PipesEventfdTimerfdPollSelectEpoll) {
    auto r = run("", "", true);
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("readiness ok"), std::string::npos) << r.out << r.err;
    EXPECT_EQ(r.out.find("FAILED"), std::string::npos) << r.out;
    for (const char* figure : {"pipe: 16 MiB", "select over 1000 fds"}) {  // for the test log
        size_t line = r.out.find(figure);
        if (line != std::string::npos)
            std::cout << GetParam() << ": " << r.out.substr(line, r.out.find('\n', line) - line)
                      << "\n";
    }
}

TEST_P(Readiness, SigpipeEndsTheProgramByDefault) {
    auto r = run("sigpipe");
    EXPECT_EQ(r.status, 128 + 13) << r.out << r.err;
    EXPECT_NE(r.out.find("writing to a pipe without a reader"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("FAILED"), std::string::npos) << r.out;
}

TEST_P(Readiness, BlockedConsoleReaderLeavesTheCpu) {
    auto r = run("stdin-idle", "", true);
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("readiness ok"), std::string::npos) << r.out << r.err;
    EXPECT_EQ(r.out.find("FAILED"), std::string::npos) << r.out;
}

TEST_P(Readiness, ConsoleIsAPollableStdin) {
    auto r = run("stdin", "hello readiness\n");
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("stdin: hello readiness"), std::string::npos) << r.out << r.err;
}

INSTANTIATE_TEST_SUITE_P(Target, Readiness, ::testing::Values("builtin", "qemu-kvm", "qemu-tcg"));

}  // namespace
