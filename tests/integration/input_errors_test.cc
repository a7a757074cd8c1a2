// Bad input to `phx run`: one clear line naming the problem, exit status 2, no VM started.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "tests/integration/phx_process.h"

namespace {

using phx_test::guest;
using phx_test::run_phx;

std::string write_temp(const std::string& name, const std::string& bytes) {
    std::string path = ::testing::TempDir() + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
}

// A minimal ELF header with the given class and machine (the rest zero).
std::string elf_header(unsigned char elf_class, unsigned short machine) {
    std::string h(64, '\0');
    h[0] = 0x7f, h[1] = 'E', h[2] = 'L', h[3] = 'F';
    h[4] = char(elf_class), h[5] = 1, h[6] = 1;
    h[16] = 2;  // ET_EXEC
    h[18] = char(machine & 0xff), h[19] = char(machine >> 8);
    h[20] = 1;
    return h;
}

void expect_usage_error(const std::vector<std::string>& args, const std::string& needle) {
    auto r = run_phx(args, 30);
    EXPECT_EQ(r.status, 2) << r.out << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("Phoenix:"), std::string::npos) << "a VM was started: " << r.out;
}

TEST(InputErrors, MissingFile) { expect_usage_error({"run", "/no/such/program"}, "no such file"); }

TEST(InputErrors, TextFile) {
    expect_usage_error({"run", write_temp("text", "#!/bin/sh\necho hi\n")}, "not an ELF");
}

TEST(InputErrors, ThirtyTwoBitElf) {
    expect_usage_error({"run", write_temp("elf32", elf_header(1, 3))}, "32-bit");
}

TEST(InputErrors, Aarch64Elf) {
    expect_usage_error({"run", write_temp("aarch64", elf_header(2, 183))}, "x86-64");
}

TEST(InputErrors, DynamicallyLinked) {
    expect_usage_error({"run", "/bin/true"}, "dynamically linked");
}

TEST(InputErrors, BadMemorySize) {
    expect_usage_error({"run", "-m", "lots", guest("hello_glibc")}, "-m lots");
    expect_usage_error({"run", "-m", "16M", guest("hello_glibc")}, "at least 64M");
}

TEST(InputErrors, BadEnvironmentEntry) {
    expect_usage_error({"run", "-e", "NOEQUALS", guest("hello_glibc")}, "KEY=VALUE");
}

TEST(InputErrors, HelpDocumentsEveryFlag) {
    auto r = run_phx({"run", "--help"}, 30);
    EXPECT_EQ(r.status, 0);
    for (const char* flag : {"--env", "--memory", "--debug", "--trace", "--kernel", "--hypervisor",
                             "--accel", "--verbose"})
        EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
}

}  // namespace
