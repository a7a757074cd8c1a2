// Threads, the scheduler, futexes, signals, timers and epoll on every target: each program
// from tests/guest (thread_pool, pthread_stress, sig_recover, altstack, timers,
// epoll_semantics; the cargo-built rust_threads and the static Go go_hello) run through
// `phx run` must exit 0 with its ok line and no "FAILED". The programs check themselves
// (they pass natively on Linux); this test only boots them.
#include <gtest/gtest.h>

#include <iostream>

#include "tests/integration/phx_process.h"

namespace {

using phx_test::guest;
using phx_test::PhxCall;
using phx_test::run_phx;

// Under ctest's 120 s per test, so that a hung guest fails with what it printed so far.
constexpr int kTimeoutSeconds = 110;

class Threads : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (phx_test::target_needs_kvm(GetParam()) && !phx_test::kvm_available())
            GTEST_SKIP() << "no usable /dev/kvm";
        home = phx_test::temp_dir("phx-home");
    }
    // Runs build/tests/guest/PROGRAM and returns its output after checking how it ended.
    std::string expect_ok(const std::string& program, const std::string& ok_line) {
        PhxCall call;
        call.args = {"run"};
        for (auto& arg : phx_test::target_args(GetParam())) call.args.push_back(arg);
        call.args.push_back(guest(program));
        call.env["PHX_HOME"] = home;
        call.timeout_seconds = kTimeoutSeconds;
        auto r = run_phx(call);
        EXPECT_FALSE(r.timed_out) << program << " still running after " << kTimeoutSeconds
                                  << " s:\n"
                                  << r.out << r.err;
        EXPECT_EQ(r.status, 0) << r.out << r.err;
        EXPECT_NE(r.out.find(ok_line), std::string::npos) << r.out << r.err;
        EXPECT_EQ(r.out.find("FAILED"), std::string::npos) << r.out;
        return r.out;
    }
    std::string home;
};

TEST_P(Threads, CxxThreadPool) { expect_ok("thread_pool", "thread pool ok"); }
TEST_P(Threads, PthreadStress) { expect_ok("pthread_stress", "pthread stress ok"); }
TEST_P(Threads, SignalsRecover) { expect_ok("sig_recover", "signals ok"); }
TEST_P(Threads, StackOverflowOnAltStack) { expect_ok("altstack", "altstack ok"); }
TEST_P(Threads, Timers) { expect_ok("timers", "timers ok"); }
TEST_P(Threads, EpollSemantics) { expect_ok("epoll_semantics", "epoll ok"); }

TEST_P(Threads, RustStdThreads) {
    if (!PHX_HAVE_CARGO) GTEST_SKIP() << "no cargo at configure time: rust_threads was not built";
    expect_ok("rust-target/debug/rust_threads", "rust threads ok");
}

TEST_P(Threads, GoRuntime) {
    if (!PHX_HAVE_GO) GTEST_SKIP() << "no go at configure time: go_hello was not built";
    auto out = expect_ok("go_hello", "go ok");
    size_t line = out.find("GOMAXPROCS");  // for the test log
    if (line != std::string::npos)
        std::cout << GetParam() << ": " << out.substr(line, out.find('\n', line) - line) << "\n";
}

INSTANTIATE_TEST_SUITE_P(Target, Threads, ::testing::Values("builtin", "qemu-kvm", "qemu-tcg"));

}  // namespace
