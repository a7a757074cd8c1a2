// Bad input to phx: one line on stderr naming the problem ("phx: ..."), exit status 2, and no
// VM started.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "tests/integration/phx_process.h"

namespace {

using phx_test::guest;
using phx_test::PhxCall;
using phx_test::run_phx;
using phx_test::stub_kernel;

std::string write_temp(const std::string& name, const std::string& bytes) {
    std::string path = ::testing::TempDir() + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
}

// A minimal ELF header with the given class and machine (the rest zero): enough for phx to
// refuse it for the right reason.
std::string elf_header(unsigned char elf_class, unsigned short machine) {
    std::string h(elf_class == 1 ? 52 : 64, '\0');
    h[0] = 0x7f, h[1] = 'E', h[2] = 'L', h[3] = 'F';
    h[4] = char(elf_class), h[5] = 1, h[6] = 1;  // ELFDATA2LSB, EV_CURRENT
    h[16] = 2;                                   // ET_EXEC
    h[18] = char(machine & 0xff), h[19] = char(machine >> 8);
    h[20] = 1;  // e_version
    return h;
}

bool one_line(const std::string& text) {
    return !text.empty() && text.find('\n') == text.size() - 1;
}

void expect_usage_error(const PhxCall& call, const std::string& needle) {
    auto r = run_phx(call);
    EXPECT_EQ(r.status, 2) << r.out << r.err;
    EXPECT_EQ(r.err.rfind("phx: ", 0), 0u) << r.err;
    EXPECT_TRUE(one_line(r.err)) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "") << "a VM was started: " << r.out;
}

void expect_usage_error(const std::vector<std::string>& args, const std::string& needle) {
    PhxCall call;
    call.args = args;
    expect_usage_error(call, needle);
}

TEST(InputErrors, MissingFile) {
    expect_usage_error({"run", "/no/such/program"}, "/no/such/program: no such file");
}

TEST(InputErrors, Directory) { expect_usage_error({"run", "/"}, "is a directory"); }

TEST(InputErrors, TextFile) {
    expect_usage_error({"run", write_temp("text", "#!/bin/sh\necho hi\n")}, "not an ELF");
}

TEST(InputErrors, EmptyFile) { expect_usage_error({"run", write_temp("empty", "")}, "not an ELF"); }

TEST(InputErrors, ThirtyTwoBitElf) {
    expect_usage_error({"run", write_temp("elf32", elf_header(1, 3))}, "32-bit");
}

TEST(InputErrors, Aarch64Elf) {
    expect_usage_error({"run", write_temp("aarch64", elf_header(2, 183))}, "not x86-64");
}

// A dynamically linked program whose library cannot be found: named, with the object that
// needs it, before any image or VM exists.
TEST(InputErrors, DynamicallyLinkedWithAMissingLibrary) {
    PhxCall call;
    call.args = {"run", guest("needs_missing_lib")};
    call.env["PHX_HOME"] = phx_test::temp_dir("phx-home");
    expect_usage_error(call, "needs libphoenix_missing.so.1, which is not found");
}

TEST(InputErrors, BadMemorySize) {
    expect_usage_error({"run", "-m", "lots", guest("hello_glibc")}, "-m lots");
    expect_usage_error({"run", "-m", "16M", guest("hello_glibc")}, "at least 64M");
    expect_usage_error({"run", "-m", "1.3G", guest("hello_glibc")}, "whole number of MiB");
    expect_usage_error({"run", "-m", "", guest("hello_glibc")}, "-m");
}

TEST(InputErrors, BadEnvironmentEntry) {
    expect_usage_error({"run", "-e", "NOEQUALS", guest("hello_glibc")}, "KEY=VALUE");
    expect_usage_error({"run", "-e", "=value", guest("hello_glibc")}, "non-empty KEY");
}

TEST(InputErrors, BadAccelerator) {
    expect_usage_error({"run", "--accel", "hvf", guest("hello_glibc")}, "--accel");
}

TEST(InputErrors, UnknownHypervisor) {
    expect_usage_error({"run", "--hypervisor", "xen", guest("hello_glibc")}, "--hypervisor");
}

TEST(InputErrors, MissingKernel) {
    expect_usage_error({"run", "--kernel", "/no/kernel.elf", guest("hello_glibc")},
                       "/no/kernel.elf");
    PhxCall call;
    call.args = {"run", guest("hello_glibc")};
    call.env["PHX_KERNEL"] = "/no/kernel.elf";
    expect_usage_error(call, "PHX_KERNEL");
}

TEST(InputErrors, ProgramIsCheckedBeforeTheKernel) {
    expect_usage_error({"run", "--kernel", stub_kernel("exit"), write_temp("text2", "not elf")}, "not an ELF");
}

TEST(InputErrors, UnknownCommandAndMissingProgram) {
    expect_usage_error({"bogus"}, "unknown command 'bogus'");
    expect_usage_error({"run"}, "no program");
    expect_usage_error({"run", "--no-such-flag", guest("hello_glibc")}, "--no-such-flag");
}

TEST(Help, RunHelpDocumentsEveryFlag) {
    auto r = run_phx({"run", "--help"}, 30);
    EXPECT_EQ(r.status, 0);
    for (const char* flag : {"--env", "--memory", "--debug", "--trace", "--kernel", "--hypervisor",
                             "--accel", "--verbose", "PHX_KERNEL", "Exit status"})
        EXPECT_NE(r.out.find(flag), std::string::npos) << flag << "\n" << r.out;
}

TEST(Help, TopLevelHelpAndVersion) {
    auto help = run_phx({"--help"}, 30);
    EXPECT_EQ(help.status, 0);
    EXPECT_NE(help.out.find("run"), std::string::npos) << help.out;
    auto version = run_phx({"--version"}, 30);
    EXPECT_EQ(version.status, 0);
    EXPECT_EQ(version.out.rfind("phx ", 0), 0u) << version.out;
}

}  // namespace

namespace {

// Errors of Phoenix's own VMM: one clear line, exit status 2.
TEST(BuiltinErrors, KernelThatIsNotPvh) {
    if (!phx_test::kvm_available()) GTEST_SKIP() << "no usable /dev/kvm";
    auto r = run_phx({"run", "--hypervisor", "builtin", "--kernel", guest("tiny_static"),
                      guest("tiny_static")});
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("not a PVH kernel (no Xen PHYS32_ENTRY ELF note)"), std::string::npos)
        << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(BuiltinErrors, KernelThatIsNotElf) {
    if (!phx_test::kvm_available()) GTEST_SKIP() << "no usable /dev/kvm";
    auto r = run_phx({"run", "--hypervisor", "builtin", "--kernel",
                      write_temp("text-kernel", "hello\n"), guest("tiny_static")});
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("not an ELF file"), std::string::npos) << r.err;
}

TEST(BuiltinErrors, TooLittleMemory) {
    auto r = run_phx({"run", "--hypervisor", "builtin", "-m", "16M", guest("tiny_static")});
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("-m"), std::string::npos) << r.err;
}

TEST(BuiltinErrors, TcgIsRefused) {
    auto r = run_phx({"run", "--hypervisor", "builtin", "--accel", "tcg", guest("tiny_static")});
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("KVM only"), std::string::npos) << r.err;
}

}  // namespace
