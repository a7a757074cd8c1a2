// Waiting on many things on every target: tests/guest/readiness.c (pipes, eventfd, timerfd,
// poll/ppoll/select/pselect6 over 1000 descriptors, epoll) must exit 0 with "readiness ok";
// SIGPIPE's default action must end the program (status 141); the console must serve as a
// pollable stdin and a reader blocked on an idle one must leave the CPU to other threads.
#include <gtest/gtest.h>

#include <iostream>
#include <string>

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
    // `mode`: the program's argv[1] (none: all the checks).
    Outcome run(const std::string& mode, const std::string& input = "") {
        PhxCall call;
        call.args = {"run"};
        for (auto& arg : phx_test::target_args(GetParam())) call.args.push_back(arg);
        call.args.push_back(guest("readiness"));
        if (!mode.empty()) call.args.insert(call.args.end(), {"--", mode});
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
    auto r = run("");
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
    auto r = run("stdin-idle");
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
