// The vDSO on every target: tests/guest/vdso.c, built three ways (static glibc, static musl,
// dynamic glibc through ld.so), finds the image through AT_SYSINFO_EHDR and /proc/self/maps,
// gets the syscalls' answers from its libc's time calls without making syscalls, and prints
// what a vDSO call and a syscall cost.
#include <gtest/gtest.h>

#include "tests/integration/phx_process.h"

namespace {

using phx_test::guest;
using phx_test::Outcome;
using phx_test::PhxCall;
using phx_test::run_phx;

class Vdso : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (phx_test::target_needs_kvm(GetParam()) && !phx_test::kvm_available())
            GTEST_SKIP() << "no usable /dev/kvm";
        home = phx_test::temp_dir("phx-home");
    }
    Outcome run(const std::string& program) {
        PhxCall call;
        call.args = {"run"};
        for (auto& arg : phx_test::target_args(GetParam())) call.args.push_back(arg);
        call.args.push_back(guest(program));
        // With KVM, 10^6 vDSO calls must cost far less than 10^3 syscalls (see vdso.c).
        if (phx_test::target_needs_kvm(GetParam()))
            call.args.insert(call.args.end(), {"--", "fast"});
        call.env["PHX_HOME"] = home;
        call.timeout_seconds = 100;
        return run_phx(call);
    }
    void expect_ok(const std::string& program) {
        auto r = run(program);
        EXPECT_EQ(r.status, 0) << r.out << r.err;
        EXPECT_NE(r.out.find("vdso ok"), std::string::npos) << r.out << r.err;
        EXPECT_EQ(r.out.find("FAILED"), std::string::npos) << r.out;
        // The figures, for the test log.
        size_t line = r.out.find("clock_gettime: ");
        if (line != std::string::npos)
            std::cout << GetParam() << " " << program << ": "
                      << r.out.substr(line, r.out.find('\n', line) - line) << "\n";
    }
    std::string home;
};

TEST_P(Vdso, StaticGlibc) { expect_ok("vdso"); }
TEST_P(Vdso, StaticMusl) { expect_ok("vdso_musl"); }
TEST_P(Vdso, DynamicGlibc) { expect_ok("vdso_dynamic"); }

INSTANTIATE_TEST_SUITE_P(Target, Vdso, ::testing::Values("builtin", "qemu-kvm", "qemu-tcg"));

}  // namespace
