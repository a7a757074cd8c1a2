// The run's crash reports, kept as files: CrashReportScanner finds the kernel's reports in the
// guest's console stream (docs/crash-reports.md: from the "*** SIG... in PROGRAM (pid N) ***"
// line to the "exit status" line, at most kMaxReportBytes), and CrashLog writes each to
// DIR/crash-<UTC time>-boot<N>.txt, keeping the newest `keep`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace vmm {

class CrashReportScanner {
public:
    static constexpr size_t kMaxReportBytes = 64 * 1024;
    static constexpr size_t kMaxLineBytes = 4096;  // longer lines are cut when kept

    // `on_report` gets each complete report: its lines with '\n' endings ('\r' dropped), and
    // the boot number its "boot N" line gave (0 when it gave none).
    using Sink = std::function<void(const std::string& report, uint64_t boot)>;
    explicit CrashReportScanner(Sink on_report) : m_on_report(std::move(on_report)) {}

    // Console bytes as they come, in any chunking.
    void feed(std::string_view bytes);

private:
    void end_line();
    static bool is_first_line(std::string_view line);
    static uint64_t boot_in(std::string_view line);

    Sink m_on_report;
    std::string m_line;
    bool m_line_cut = false;
    bool m_in_report = false;
    std::string m_report;
    uint64_t m_boot = 0;
};

class CrashLog {
public:
    // `dir` empty or `keep` 0: reports are not kept. `log` hears of each saved report and of
    // failures to save one (the run goes on either way).
    CrashLog(std::string dir, uint32_t keep, std::function<void(const std::string&)> log);

    void feed(std::string_view bytes);
    // The runner's boot number, for a report that carries none.
    void set_boot(uint64_t boot);

    // Writes `report` as a new file and deletes the oldest beyond `keep`; the file's path, or
    // "" when it could not be written.
    std::string save(const std::string& report, uint64_t boot);

private:
    void prune();

    std::string m_dir;
    uint32_t m_keep;
    std::function<void(const std::string&)> m_log;
    std::mutex m_lock;  // the console may be fed from the vCPU thread
    uint64_t m_boot = 0;
    CrashReportScanner m_scanner;
};

}  // namespace vmm
