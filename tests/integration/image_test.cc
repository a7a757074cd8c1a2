// Disk images end to end: dynamically linked programs (glibc C, libstdc++) booted from the
// image phx builds for them on every target; `phx image create` output checked by e2fsck and
// for reproducibility; images run by name from the store, with run-time arguments.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

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

// A static program run without a config still boots with its image's filesystem.
TEST_P(DynamicProgram, StaticProgramSeesItsImage) {
    auto r = run("read_etc");
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("/etc/resolv.conf: nameserver 8.8.8.8"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("/etc/hosts: 127.0.0.1 localhost"), std::string::npos) << r.out;
}

// musl's dynamic linker is its libc: the program's DT_NEEDED libc.so is the interpreter.
TEST_P(DynamicProgram, MuslDynamicProgramRuns) {
    auto r = run("hello_musl_dynamic", {"-e", "PHX_TEST_ENV=musl-dyn"});
    EXPECT_EQ(r.status, 7) << r.out << r.err;
    EXPECT_NE(r.out.find("PHX_TEST_ENV=musl-dyn"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("musl ok"), std::string::npos) << r.out;
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

void write_text(const std::string& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
}

// The Rust program: plain `cargo build`, reading what config.json's Files and Dirs
// shipped, with its Env and Args, through `phx image create -c` and `phx run NAME`, and
// through `phx run -c` directly.
TEST(ConfigJson, RustProgramReadsItsFilesAndDirs) {
    if (!phx_test::kvm_available()) GTEST_SKIP() << "no usable /dev/kvm";
    std::string program = guest("rust-target/debug/rust_files");
    if (access(program.c_str(), X_OK) != 0) GTEST_SKIP() << "no cargo: the Rust guest was not built";
    std::string home = phx_test::temp_dir("phx-home");
    std::string work = phx_test::temp_dir("phx-config");
    std::system(("mkdir -p " + work + "/data " + work + "/assets/deeper").c_str());
    write_text(work + "/data/message.txt", "shipped with Files\n");
    write_text(work + "/assets/a.txt", "a");
    write_text(work + "/assets/b.txt", "b");
    write_text(work + "/assets/deeper/inner.txt", "from Dirs\n");
    write_text(work + "/config.json", "{\n  \"Program\": \"" + program +
                                          "\",\n  \"Args\": [\"one\"],\n  \"Env\": {\"GREETING\": \"hi\"},\n"
                                          "  \"Files\": [\"data/message.txt\"],\n  \"Dirs\": [\"assets\"],\n"
                                          "  \"RunConfig\": {\"Memory\": \"512M\"}\n}\n");
    auto check = [](const Outcome& r) {
        EXPECT_EQ(r.status, 0) << r.out << r.err;
        EXPECT_NE(r.out.find("args: [\"/rust_files\", \"one\"]"), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("GREETING=hi"), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("message: shipped with Files"), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("assets: a.txt,b.txt,deeper"), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("inner: from Dirs"), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("cwd: /"), std::string::npos) << r.out;
    };
    PhxCall create;
    create.cwd = work;
    create.env["PHX_HOME"] = home;
    create.args = {"image", "create", "-c", "config.json", "-i", "rusty"};
    auto made = run_phx(create);
    ASSERT_EQ(made.status, 0) << made.err;
    PhxCall run = create;
    run.args = {"run", "rusty"};
    check(run_phx(run));
    run.args = {"run", "-c", "config.json"};
    check(run_phx(run));
}

TEST(ConfigJson, BadConfigsAreClearErrorsAndLeaveNoImage) {
    std::string home = phx_test::temp_dir("phx-home");
    std::string work = phx_test::temp_dir("phx-config");
    PhxCall call;
    call.cwd = work;
    call.env["PHX_HOME"] = home;
    call.args = {"image", "create", "-c", "config.json", "-a", guest("hello_dynamic"), "-i", "bad"};
    auto expect_error = [&](const std::string& text, const std::string& message) {
        write_text(work + "/config.json", text);
        auto r = run_phx(call);
        EXPECT_EQ(r.status, 2) << text << r.err;
        EXPECT_NE(r.err.find(message), std::string::npos) << text << " -> " << r.err;
    };
    expect_error("{\n  \"Args\": [\"x\",]\n}\n", "config.json:2:");
    expect_error("{\"Arg\": []}", "did you mean 'Args'");
    expect_error("{\"Files\": [\"no-such-file\"]}", "no-such-file");
    expect_error("{\"TargetRoot\": \"x\"}", "not supported yet");
    expect_error("{\"RunConfig\": {\"CPUs\": 2}}", "RunConfig.CPUs above 1 is not supported yet");
    EXPECT_EQ(std::system(("test -z \"$(ls -A '" + home + "/images' 2>/dev/null)\"").c_str()), 0)
        << "something was left in " << home << "/images";
}

}  // namespace
