// vmm/crash_log: reports found in console bytes however they are chunked, nothing else taken
// for one, bounded sizes, and the log directory keeping only the newest N.
#include "vmm/crash_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using vmm::CrashLog;
using vmm::CrashReportScanner;

const std::string kReport =
    "*** SIGSEGV in /crash_qsort (pid 1) ***\n"
    "cause: page fault (vector 14, error code 0x6)\n"
    "fault address: 0x0000000000000000  instruction pointer: 0x0000555555555169\n"
    "boot 3, uptime: 0.120000 s\n"
    "RIP: 0x0000555555555169\n"
    "backtrace:\n"
    "  #0 0x0000555555555169 by_value+0x10 (/crash_qsort)\n"
    "exit status 139 (128 + SIGSEGV)\n";

struct Found {
    std::string report;
    uint64_t boot;
};

std::vector<Found> scan(const std::string& stream, size_t chunk) {
    std::vector<Found> found;
    CrashReportScanner scanner([&](const std::string& r, uint64_t boot) {
        found.push_back({r, boot});
    });
    for (size_t at = 0; at < stream.size(); at += chunk)
        scanner.feed(std::string_view(stream).substr(at, chunk));
    return found;
}

TEST(CrashReportScanner, FindsTheReportInAnyChunking) {
    std::string stream = "hello from the program\nsorting...\n" + kReport + "after\n";
    for (size_t chunk : {1ul, 2ul, 3ul, 7ul, 64ul, 4096ul}) {
        auto found = scan(stream, chunk);
        ASSERT_EQ(found.size(), 1u) << chunk;
        EXPECT_EQ(found[0].report, kReport);
        EXPECT_EQ(found[0].boot, 3u);
    }
}

TEST(CrashReportScanner, CarriageReturnsAndTwoReports) {
    std::string crlf;
    for (char c : kReport) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    auto found = scan("x\r\n" + crlf + crlf, 5);
    ASSERT_EQ(found.size(), 2u);
    EXPECT_EQ(found[1].report, kReport);
}

TEST(CrashReportScanner, OnlyTheKernelsFirstLineStartsOne) {
    // The program's own text, the one-line death by a terminating signal, out of memory.
    EXPECT_TRUE(scan("*** not a report ***\nexit status 1\n", 1).empty());
    EXPECT_TRUE(
        scan("*** program killed by signal 15 (SIGTERM) ***\nexit status 143\n", 4).empty());
    EXPECT_TRUE(scan("  *** SIGSEGV in /x (pid 1) ***\nexit status 139\n", 4).empty());
    // Unfinished: never reported.
    EXPECT_TRUE(scan(kReport.substr(0, kReport.size() - 10), 3).empty());
    // A report without a boot line: boot 0 (the runner fills in its own).
    auto found = scan("*** SIGABRT in /a (pid 1) ***\nexit status 134 (128 + SIGABRT)\n", 2);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].boot, 0u);
}

TEST(CrashReportScanner, RestartsOnANewFirstLineAndBoundsTheSize) {
    auto found = scan("*** SIGBUS in /a (pid 1) ***\ncut short\n" + kReport, 9);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].report, kReport);
    std::string huge = "*** SIGSEGV in /a (pid 1) ***\n";
    for (int i = 0; i < 2000; ++i) huge += std::string(60, 'r') + "\n";  // > 64 KiB
    huge += "exit status 139 (128 + SIGSEGV)\n";
    EXPECT_TRUE(scan(huge, 1000).empty());
    // An endless line inside a report is cut, not stored whole.
    std::string long_line = "*** SIGSEGV in /a (pid 1) ***\n" + std::string(100000, 'x') +
                            "\nexit status 139 (128 + SIGSEGV)\n";
    found = scan(long_line + kReport, 4096);
    ASSERT_EQ(found.size(), 2u);
    EXPECT_LE(found[0].report.size(), CrashReportScanner::kMaxReportBytes);
}

std::vector<std::string> files_in(const std::string& dir) {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
        names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

std::string temp_dir() {
    char pattern[] = "/tmp/phx-crash-log-XXXXXX";
    return mkdtemp(pattern);
}

TEST(CrashLog, WritesReportsAndKeepsTheNewest) {
    std::string dir = temp_dir() + "/runs/prog";  // created when needed
    std::vector<std::string> lines;
    CrashLog log(dir, 3, [&](const std::string& line) { lines.push_back(line); });
    log.set_boot(7);
    std::string other = "*** SIGABRT in /a (pid 1) ***\nexit status 134 (128 + SIGABRT)\n";
    for (int i = 0; i < 5; ++i) {
        log.feed(i % 2 ? kReport : other);
        usleep(2000);  // distinct millisecond timestamps
    }
    auto names = files_in(dir);
    ASSERT_EQ(names.size(), 3u);
    for (const auto& name : names) {
        EXPECT_TRUE(name.starts_with("crash-2")) << name;
        EXPECT_TRUE(name.ends_with(".txt")) << name;
    }
    // Newest kept: reports 2 (other, boot 7 from the runner), 3 (boot 3), 4 (other).
    EXPECT_NE(names[0].find("-boot7.txt"), std::string::npos) << names[0];
    EXPECT_NE(names[1].find("-boot3.txt"), std::string::npos) << names[1];
    std::ifstream in(dir + "/" + names[1]);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(text.str(), kReport);
    EXPECT_EQ(lines.size(), 5u);
    std::filesystem::remove_all(std::filesystem::path(dir).parent_path().parent_path());
}

TEST(CrashLog, OffWithoutADirectoryOrWithKeepZero) {
    std::string dir = temp_dir();
    CrashLog none(dir, 0, nullptr);
    none.feed(kReport);
    EXPECT_TRUE(files_in(dir).empty());
    CrashLog unwritable("/proc/phx-no-such-dir", 5, nullptr);
    EXPECT_EQ(unwritable.save(kReport, 1), "");
    std::filesystem::remove_all(dir);
}

}  // namespace
