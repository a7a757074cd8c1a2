// Crash reports out of the console stream and into the log directory.
#include "vmm/crash_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <system_error>
#include <vector>

namespace vmm {

void CrashReportScanner::feed(std::string_view bytes) {
    for (char c : bytes) {
        if (c == '\n') {
            end_line();
        } else if (c != '\r') {
            if (m_line.size() < kMaxLineBytes)
                m_line += c;
            else
                m_line_cut = true;
        }
    }
}

// "*** SIGSEGV in /hello-world (pid 1) ***": what crash.cc prints first, and only there.
bool CrashReportScanner::is_first_line(std::string_view line) {
    return line.starts_with("*** SIG") && line.ends_with(") ***") &&
           line.find(" in ") != std::string_view::npos &&
           line.find(" (pid ") != std::string_view::npos;
}

// "boot 3, uptime: ..." -> 3
uint64_t CrashReportScanner::boot_in(std::string_view line) {
    if (!line.starts_with("boot ")) return 0;
    uint64_t boot = 0;
    for (size_t i = 5; i < line.size() && line[i] >= '0' && line[i] <= '9' && boot < 1000000000;
         ++i)
        boot = boot * 10 + uint64_t(line[i] - '0');
    return boot;
}

void CrashReportScanner::end_line() {
    std::string_view line = m_line;
    if (is_first_line(line) && !m_line_cut) {  // a new report (one cut short is dropped)
        m_in_report = true;
        m_report.clear();
        m_boot = 0;
    }
    if (m_in_report) {
        if (m_report.size() + line.size() + 1 > kMaxReportBytes) {
            m_in_report = false;  // not a report we keep: too long to be one
            m_report.clear();
        } else {
            m_report.append(line).push_back('\n');
            if (!m_boot) m_boot = boot_in(line);
            if (line.starts_with("exit status ")) {
                m_in_report = false;
                m_on_report(m_report, m_boot);
                m_report.clear();
            }
        }
    }
    m_line.clear();
    m_line_cut = false;
}

CrashLog::CrashLog(std::string dir, uint32_t keep, std::function<void(const std::string&)> log)
    : m_dir(std::move(dir)),
      m_keep(keep),
      m_log(std::move(log)),
      m_scanner([this](const std::string& report, uint64_t boot) {
          save(report, boot ? boot : m_boot);
      }) {}

void CrashLog::feed(std::string_view bytes) {
    if (m_dir.empty() || m_keep == 0) return;
    std::lock_guard lock(m_lock);
    m_scanner.feed(bytes);
}

void CrashLog::set_boot(uint64_t boot) {
    std::lock_guard lock(m_lock);
    m_boot = boot;
}

namespace {

// 20240131T235959.123Z: sorts as it happened, and means the same on every host.
std::string utc_timestamp() {
    auto now = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    std::time_t seconds = std::time_t(ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[80];
    std::snprintf(text, sizeof(text), "%04d%02d%02dT%02d%02d%02d.%03dZ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, int(ms % 1000));
    return text;
}

bool is_report_file(const std::string& name) {
    return name.starts_with("crash-") && name.ends_with(".txt");
}

}  // namespace

std::string CrashLog::save(const std::string& report, uint64_t boot) {
    std::error_code ec;
    std::filesystem::create_directories(m_dir, ec);
    std::string stem = m_dir + "/crash-" + utc_timestamp() + "-boot" + std::to_string(boot);
    std::string path;
    int fd = -1;
    for (int n = 1; n <= 100 && fd < 0; ++n) {  // two reports in one millisecond
        path = stem + (n > 1 ? "-" + std::to_string(n) : "") + ".txt";
        fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        if (m_log) m_log("cannot save the crash report in " + m_dir + ": " + std::strerror(errno));
        return "";
    }
    size_t written = 0;
    while (written < report.size()) {
        ssize_t n = write(fd, report.data() + written, report.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        written += size_t(n);
    }
    close(fd);
    if (written < report.size()) {
        if (m_log) m_log("cannot write the crash report " + path);
        unlink(path.c_str());
        return "";
    }
    if (m_log) m_log("crash report saved: " + path);
    prune();
    return path;
}

// Keeps the newest m_keep reports; names sort by time, so the oldest come first.
void CrashLog::prune() {
    std::vector<std::string> names;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(m_dir, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (is_report_file(name)) names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    for (size_t i = 0; i + m_keep < names.size(); ++i)
        std::filesystem::remove(m_dir + "/" + names[i], ec);
}

}  // namespace vmm
