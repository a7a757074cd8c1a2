// /dev and /proc on every target: tests/guest/dev_proc.c from a disk image, with arguments
// and an environment of its own so that /proc/self/cmdline and environ have something to
// show. It checks each device, link and generated file from inside and prints "dev proc ok".
#include <gtest/gtest.h>

#include "tests/integration/phx_process.h"

namespace {

using phx_test::guest;
using phx_test::PhxCall;
using phx_test::run_phx;

class DevProc : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (phx_test::target_needs_kvm(GetParam()) && !phx_test::kvm_available())
            GTEST_SKIP() << "no usable /dev/kvm";
        home = phx_test::temp_dir("phx-home");
        image = home + "/dev_proc.img";
    }
    std::string home, image;
};

TEST_P(DevProc, DevicesAndGeneratedFilesBehaveAsOnLinux) {
    PhxCall create;
    create.args = {"image", "create", "-a", guest("dev_proc"), "-o", image};
    for (const char* arg : {"-e", "DEV_PROC=yes", "--", "one", "two words"})
        create.args.push_back(arg);
    create.env["PHX_HOME"] = home;
    auto made = run_phx(create);
    ASSERT_EQ(made.status, 0) << made.out << made.err;

    PhxCall call;
    call.args = {"run"};
    for (auto& arg : phx_test::target_args(GetParam())) call.args.push_back(arg);
    call.args.push_back(image);
    call.env["PHX_HOME"] = home;
    call.timeout_seconds = 100;
    auto r = run_phx(call);
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("dev proc ok"), std::string::npos) << r.out << r.err;
    EXPECT_EQ(r.out.find("FAILED"), std::string::npos) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Target, DevProc, ::testing::Values("builtin", "qemu-kvm", "qemu-tcg"));

}  // namespace
