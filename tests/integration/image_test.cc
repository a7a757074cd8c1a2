// Disk images end to end: dynamically linked programs (glibc C, libstdc++) booted from the
// image phx builds for them on every target; `phx image create` output checked by e2fsck and
// for reproducibility; images run by name from the store, with run-time arguments.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/integration/phx_process.h"

namespace {

using phx_test::guest;
using phx_test::Outcome;
using phx_test::PhxCall;
using phx_test::run_phx;

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

class DynamicProgram : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (phx_test::target_needs_kvm(GetParam()) && !phx_test::kvm_available())
            GTEST_SKIP() << "no usable /dev/kvm";
        home = phx_test::temp_dir("phx-home");
    }
    Outcome run(const std::string& program, std::vector<std::string> extra = {}) {
        PhxCall call;
        call.args = {"run"};
        for (auto& arg : phx_test::target_args(GetParam())) call.args.push_back(arg);
        call.args.push_back(guest(program));
        call.args.insert(call.args.end(), extra.begin(), extra.end());
        call.env["PHX_HOME"] = home;
        return run_phx(call);
    }
    std::string home;
};

TEST_P(DynamicProgram, GlibcHelloRunsFromItsImage) {
    auto r = run("hello_dynamic", {"-e", "PHX_TEST_ENV=dyn", "--", "one"});
    EXPECT_EQ(r.status, 7) << r.out << r.err;
    EXPECT_NE(r.out.find("argv[0]=/hello_dynamic"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("argv[1]=one"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("PHX_TEST_ENV=dyn"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("hosts: 127.0.0.1 localhost"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("passwd listed: 1"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("root: ext2"), std::string::npos) << r.out;
}

TEST_P(DynamicProgram, LibstdcxxProgramRuns) {
    auto r = run("cxx_dynamic");
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("caught: boom"), std::string::npos) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Target, DynamicProgram, ::testing::Values("builtin", "qemu-kvm", "qemu-tcg"));

TEST(ImageCreate, PassesFsckIsReproducibleAndRunsByName) {
    if (!phx_test::kvm_available()) GTEST_SKIP() << "no usable /dev/kvm";
    std::string home = phx_test::temp_dir("phx-home");
    PhxCall create;
    create.args = {"image", "create", "-a", guest("hello_dynamic"), "-i", "hello", "--", "baked"};
    create.env["PHX_HOME"] = home;
    auto made = run_phx(create);
    ASSERT_EQ(made.status, 0) << made.err;
    std::string image = home + "/images/hello.img";
    EXPECT_NE(made.out.find(image), std::string::npos) << made.out;
    std::string fsck = "e2fsck -fn '" + image + "?offset=1048576' >/dev/null 2>&1";
    int status = std::system(fsck.c_str());
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "e2fsck -fn failed on " << image;

    // The same inputs, built again elsewhere: the same bytes.
    PhxCall again = create;
    again.args = {"image", "create", "-a", guest("hello_dynamic"), "-o", home + "/again.img", "--", "baked"};
    ASSERT_EQ(run_phx(again).status, 0);
    EXPECT_TRUE(slurp(image) == slurp(home + "/again.img")) << "two builds differ";

    PhxCall list;
    list.args = {"image", "list"};
    list.env["PHX_HOME"] = home;
    EXPECT_NE(run_phx(list).out.find("hello"), std::string::npos);

    PhxCall by_name;
    by_name.args = {"run", "hello"};
    by_name.env["PHX_HOME"] = home;
    auto r = run_phx(by_name);
    EXPECT_EQ(r.status, 7) << r.out << r.err;
    EXPECT_NE(r.out.find("argv[1]=baked"), std::string::npos) << r.out;
    // Arguments given at run time replace the baked ones.
    by_name.args = {"run", "hello", "--", "fresh"};
    r = run_phx(by_name);
    EXPECT_NE(r.out.find("argv[1]=fresh"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("argv[1]=baked"), std::string::npos) << r.out;

    PhxCall remove;
    remove.args = {"image", "delete", "hello"};
    remove.env["PHX_HOME"] = home;
    EXPECT_EQ(run_phx(remove).status, 0);
    EXPECT_EQ(run_phx(remove).status, 2) << "a second delete names the missing image";
}

TEST(ImageCreate, BadInputLeavesNothingBehind) {
    std::string home = phx_test::temp_dir("phx-home");
    PhxCall call;
    call.env["PHX_HOME"] = home;
    call.args = {"image", "create", "-a", guest("needs_missing_lib"), "-i", "broken"};
    auto r = run_phx(call);
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("libphoenix_missing.so.1"), std::string::npos) << r.err;
    call.args = {"image", "create", "-a", "/no/such/program", "-i", "broken"};
    r = run_phx(call);
    EXPECT_EQ(r.status, 2) << r.err;
    call.args = {"image", "create", "-a", "/etc/hostname", "-i", "broken"};
    r = run_phx(call);
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("not an ELF"), std::string::npos) << r.err;
    std::string leftovers = "ls -A '" + home + "/images' 2>/dev/null | wc -l";
    FILE* pipe = popen(leftovers.c_str(), "r");
    int count = -1;
    ASSERT_TRUE(pipe && fscanf(pipe, "%d", &count) == 1);
    pclose(pipe);
    EXPECT_EQ(count, 0) << "an image or temporary file was left in " << home << "/images";
}

}  // namespace
