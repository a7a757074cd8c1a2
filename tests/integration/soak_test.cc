// Soak (opt-in: ctest -L soak): 10,000 reboot cycles of a guest that resets itself on every
// boot, on Phoenix's own VMM. The host process must not leak: its open fds and threads stay
// exactly the same and its RSS flat from the 100th reboot to the last.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "tests/integration/phx_process.h"

namespace {

using phx_test::guest;
using phx_test::PhxCall;
using phx_test::run_phx;
using phx_test::stub_kernel;

constexpr int kCycles = 10000;

struct HostLine {
    long fds = -1, rss_kib = -1, threads = -1;
};

// The "[host: F fds, R KiB RSS, T threads]" part of phx's "reboot N:" line.
HostLine host_line(const std::string& err, int reboot) {
    HostLine line;
    std::string tag = "phx: reboot " + std::to_string(reboot) + ": ";
    size_t at = err.find(tag);
    if (at == std::string::npos) return line;
    size_t host = err.find("[host: ", at);
    if (host == std::string::npos) return line;
    std::sscanf(err.c_str() + host, "[host: %ld fds, %ld KiB RSS, %ld threads]", &line.fds,
                &line.rss_kib, &line.threads);
    return line;
}

TEST(Soak, TenThousandRebootsLeakNothing) {
    if (!phx_test::kvm_available()) GTEST_SKIP() << "no usable /dev/kvm";
    PhxCall call;
    call.args = {"run",
                 "--hypervisor",
                 "builtin",
                 "--kernel",
                 stub_kernel("reset"),
                 "-m",
                 "256M",
                 "--max-restarts",
                 std::to_string(kCycles),
                 "--restart-window",
                 "0",
                 "--restart-backoff",
                 "0",
                 "--host-stats",
                 guest("tiny_static")};
    // ASan's quarantine would look like growth: keep it small so RSS measures phx itself.
    call.env["ASAN_OPTIONS"] = "quarantine_size_mb=1";
    call.timeout_seconds = 1800;
    auto r = run_phx(call);
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.status, 125) << r.err.substr(r.err.size() > 2000 ? r.err.size() - 2000 : 0);
    HostLine early = host_line(r.err, 100);
    HostLine late = host_line(r.err, kCycles);
    ASSERT_GT(early.fds, 0) << "no host stats at reboot 100";
    ASSERT_GT(late.fds, 0) << "no host stats at reboot " << kCycles;
    std::printf("reboot 100: %ld fds, %ld KiB RSS, %ld threads; reboot %d: %ld fds, %ld KiB RSS, "
                "%ld threads\n",
                early.fds, early.rss_kib, early.threads, kCycles, late.fds, late.rss_kib,
                late.threads);
    EXPECT_EQ(late.fds, early.fds);
    EXPECT_EQ(late.threads, early.threads);
    EXPECT_LE(late.rss_kib, early.rss_kib + 4096) << "RSS grew by more than 4 MiB";
}

}  // namespace
