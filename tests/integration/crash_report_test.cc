// Crash reports on every target (docs/crash-reports.md): tests/guest/crash_report, a dynamic
// glibc program with frame pointers, dies in a qsort callback and through abort(); the report
// must name its functions and libc's, say the boot, and land in the run's log directory,
// which keeps only the newest --keep-crash-reports.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/phx_process.h"

namespace {

using phx_test::guest;
using phx_test::Outcome;
using phx_test::PhxCall;
using phx_test::run_phx;

std::vector<std::string> report_files(const std::string& dir) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
        names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// The backtrace line naming `function` (demangled, "+0x" follows) in a file whose path ends
// in `file`, or "".
std::string frame_line(const std::string& report, const std::string& function,
                       const std::string& file) {
    std::istringstream lines(report);
    std::string line;
    while (std::getline(lines, line))
        if (line.starts_with("  #") && line.find(" " + function + "+0x") != std::string::npos &&
            line.find(file + ")") != std::string::npos)
            return line;
    return "";
}

bool all_digits(std::string_view text) {
    return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

// crash-20261201T234419.123Z-boot2.txt
bool is_report_name(std::string_view name) {
    if (!name.starts_with("crash-") || !name.ends_with(".txt") || name.size() < 36) return false;
    std::string_view stamp = name.substr(6, 20);
    return all_digits(stamp.substr(0, 8)) && stamp[8] == 'T' && all_digits(stamp.substr(9, 6)) &&
           stamp[15] == '.' && all_digits(stamp.substr(16, 3)) && stamp[19] == 'Z' &&
           name.substr(26, 5) == "-boot" && all_digits(name.substr(31, name.size() - 35));
}

// "boot 3, uptime: " or "boot ?, uptime: " on a line of its own.
bool has_boot_line(const std::string& report) {
    size_t at = report.find("\nboot ");
    if (at == std::string::npos) return false;
    size_t end = report.find(", uptime: ", at);
    if (end == std::string::npos) return false;
    std::string_view number = std::string_view(report).substr(at + 6, end - at - 6);
    return number == "?" || all_digits(number);
}

class CrashReports : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (phx_test::target_needs_kvm(GetParam()) && !phx_test::kvm_available())
            GTEST_SKIP() << "no usable /dev/kvm";
        home = phx_test::temp_dir("phx-home");
        log_dir = phx_test::temp_dir("phx-crash-logs") + "/runs";
    }
    Outcome run(const std::vector<std::string>& program_args, std::vector<std::string> flags = {}) {
        PhxCall call;
        call.args = {"run"};
        for (auto& arg : phx_test::target_args(GetParam())) call.args.push_back(arg);
        call.args.insert(call.args.end(), {"--log-dir", log_dir});
        call.args.insert(call.args.end(), flags.begin(), flags.end());
        call.args.push_back(guest("crash_report"));
        if (!program_args.empty()) call.args.push_back("--");
        for (auto& arg : program_args) call.args.push_back(arg);
        call.env["PHX_HOME"] = home;
        call.timeout_seconds = 110;
        Outcome r = run_phx(call);
        std::erase(r.out, '\r');  // the serial console ends lines with \r\n
        return r;
    }
    std::string home, log_dir;
};

constexpr const char* kLibc = "/libc.so.6";  // /lib/... or /usr/lib/..., as ld.so found it

TEST_P(CrashReports, QsortCallbackCrashNamesBothSidesOfLibc) {
    auto r = run({});
    ASSERT_EQ(r.status, 139) << r.out << r.err;
    EXPECT_NE(r.out.find("\n*** SIGSEGV in /crash_report (pid 1) ***\n"), std::string::npos)
        << r.out;
    EXPECT_TRUE(has_boot_line(r.out)) << r.out;
    EXPECT_NE(r.out.find("\nbacktrace:\n  #0 "), std::string::npos) << r.out;
    std::string crash = frame_line(r.out, "compare_and_crash", "(/crash_report");
    EXPECT_TRUE(crash.starts_with("  #0 0x")) << r.out;  // the faulting instruction itself
    EXPECT_NE(frame_line(r.out, "sort_numbers", "(/crash_report"), "") << r.out;
    EXPECT_NE(frame_line(r.out, "main", "(/crash_report"), "") << r.out;
    EXPECT_NE(frame_line(r.out, "qsort_r", kLibc) + frame_line(r.out, "qsort", kLibc), "") << r.out;
    EXPECT_NE(r.out.find("exit status 139 (128 + SIGSEGV)"), std::string::npos) << r.out;

    // The same report, from its first line to the exit status line, in the log directory.
    auto files = report_files(log_dir);
    ASSERT_EQ(files.size(), 1u) << r.err;
    EXPECT_TRUE(is_report_name(files[0])) << files[0];
    std::string saved = read_text(log_dir + "/" + files[0]);
    EXPECT_TRUE(saved.starts_with("*** SIGSEGV in /crash_report (pid 1) ***\n")) << saved;
    EXPECT_TRUE(saved.ends_with("exit status 139 (128 + SIGSEGV)\n")) << saved;
    EXPECT_NE(frame_line(saved, "compare_and_crash", "(/crash_report"), "") << saved;
    EXPECT_NE(r.err.find("crash report saved: " + log_dir + "/crash-"), std::string::npos) << r.err;
}

TEST_P(CrashReports, AbortThroughLibcFindsTheCallerByStackScan) {
    auto r = run({"abort"});
    ASSERT_EQ(r.status, 134) << r.out << r.err;
    EXPECT_NE(r.out.find("*** SIGABRT in /crash_report (pid 1) ***"), std::string::npos) << r.out;
    EXPECT_NE(frame_line(r.out, "abort", kLibc), "") << r.out;
    EXPECT_NE(frame_line(r.out, "give_up", "(/crash_report"), "") << r.out;
    EXPECT_NE(frame_line(r.out, "main", "(/crash_report"), "") << r.out;
}

TEST_P(CrashReports, LogDirectoryKeepsTheNewestN) {
    for (int i = 0; i < 4; ++i) {
        auto r = run({i % 2 ? "abort" : "sort"}, {"--keep-crash-reports", "2"});
        ASSERT_EQ(r.status, i % 2 ? 134 : 139) << r.out << r.err;
    }
    auto files = report_files(log_dir);
    ASSERT_EQ(files.size(), 2u);
    // The two newest: the third run (SIGSEGV) and the fourth (SIGABRT).
    EXPECT_TRUE(read_text(log_dir + "/" + files[0]).starts_with("*** SIGSEGV")) << files[0];
    EXPECT_TRUE(read_text(log_dir + "/" + files[1]).starts_with("*** SIGABRT")) << files[1];
    // 0 keeps none (and deletes nothing either).
    auto r = run({}, {"--keep-crash-reports", "0"});
    EXPECT_EQ(r.status, 139);
    EXPECT_EQ(report_files(log_dir).size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Target, CrashReports,
                         ::testing::Values("builtin", "qemu-kvm", "qemu-tcg"));

}  // namespace
