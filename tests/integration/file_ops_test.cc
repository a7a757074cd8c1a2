// Writable files on every target: tests/guest/file_ops.c run from a disk image (its files
// under the root overlay, /tmp a tmpfs), twice from the same image: the second boot must find
// the image as it was, because writes live in memory and vanish at reboot.
#include <gtest/gtest.h>

#include "tests/integration/phx_process.h"

namespace {

using phx_test::guest;
using phx_test::Outcome;
using phx_test::PhxCall;
using phx_test::run_phx;

class FileOps : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (phx_test::target_needs_kvm(GetParam()) && !phx_test::kvm_available())
            GTEST_SKIP() << "no usable /dev/kvm";
        home = phx_test::temp_dir("phx-home");
        image = home + "/file_ops.img";
    }
    Outcome run_image() {
        PhxCall call;
        call.args = {"run"};
        for (auto& arg : phx_test::target_args(GetParam())) call.args.push_back(arg);
        call.args.push_back(image);
        call.env["PHX_HOME"] = home;
        call.timeout_seconds = 100;
        return run_phx(call);
    }
    std::string home, image;
};

TEST_P(FileOps, WritesWorkAndVanishAtReboot) {
    PhxCall create;
    create.args = {"image", "create", "-a", guest("file_ops"), "-o", image};
    create.env["PHX_HOME"] = home;
    auto made = run_phx(create);
    ASSERT_EQ(made.status, 0) << made.out << made.err;
    for (int boot = 1; boot <= 2; ++boot) {
        auto r = run_image();
        EXPECT_EQ(r.status, 0) << "boot " << boot << ":\n" << r.out << r.err;
        EXPECT_NE(r.out.find("pristine: /etc/hosts from the image, no /data"), std::string::npos)
            << "boot " << boot << ":\n"
            << r.out;
        EXPECT_NE(r.out.find("file ops ok"), std::string::npos) << "boot " << boot << ":\n"
                                                                << r.out;
        EXPECT_EQ(r.out.find("FAILED"), std::string::npos) << "boot " << boot << ":\n" << r.out;
    }
}

INSTANTIATE_TEST_SUITE_P(Target, FileOps, ::testing::Values("builtin", "qemu-kvm", "qemu-tcg"));

// File mappings: MAP_SHARED written through both ways on tmpfs, the overlay and an image
// file; EACCES cases; preadv/pwritev(2); pages lent to mappings freed once the last user goes
// (tests/guest/mmap_files.c).
class MmapFiles : public FileOps {};

TEST_P(MmapFiles, SharedMappingsAndLentPages) {
    PhxCall create;
    create.args = {"image", "create", "-a", guest("mmap_files"), "-o", image};
    create.env["PHX_HOME"] = home;
    auto made = run_phx(create);
    ASSERT_EQ(made.status, 0) << made.out << made.err;
    auto r = run_image();
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("mmap files ok"), std::string::npos) << r.out << r.err;
    EXPECT_EQ(r.out.find("FAILED"), std::string::npos) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Target, MmapFiles, ::testing::Values("builtin", "qemu-kvm", "qemu-tcg"));

}  // namespace
