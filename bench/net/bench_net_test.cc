// bench/net's parsers: wrk's report and the newc archive the Linux guest boots from.
#include <gtest/gtest.h>

#include <string>

#include "bench/net/linux_guest.h"
#include "bench/net/wrk.h"

namespace bench::net {
namespace {

constexpr const char* kReport =
    "Running 2s test @ http://127.0.0.1:18080/\n"
    "  1 threads and 8 connections\n"
    "  Thread Stats   Avg      Stdev     Max   +/- Stdev\n"
    "    Latency   274.37us    0.91ms  10.90ms   95.39%\n"
    "    Req/Sec    42.48k     7.66k   52.45k    70.00%\n"
    "  Latency Distribution\n"
    "     50%   98.00us\n"
    "     75%  132.00us\n"
    "     90%  164.00us\n"
    "     99%    5.13ms\n"
    "  84612 requests in 2.01s, 8.71MB read\n"
    "  Socket errors: connect 0, read 1, write 2, timeout 3\n"
    "  Non-2xx or 3xx responses: 4\n"
    "Requests/sec:  42191.81\n"
    "Transfer/sec:      4.35MB\n";

TEST(Wrk, ParsesFiguresAndErrors) {
    WrkResult result = parse_wrk(kReport);
    ASSERT_TRUE(result.ok) << result.error;
    EXPECT_DOUBLE_EQ(result.requests_per_s, 42191.81);
    EXPECT_DOUBLE_EQ(result.p99_ms, 5.13);
    EXPECT_EQ(result.requests, 84612);
    EXPECT_EQ(result.socket_errors, 6);
    EXPECT_EQ(result.non_2xx, 4);
}

TEST(Wrk, LatencyUnits) {
    EXPECT_DOUBLE_EQ(parse_wrk("99% 250.00us\nRequests/sec: 1\n").p99_ms, 0.25);
    EXPECT_DOUBLE_EQ(parse_wrk("99% 1.50s\nRequests/sec: 1\n").p99_ms, 1500);
    EXPECT_DOUBLE_EQ(parse_wrk("99% 2.00m\nRequests/sec: 1\n").p99_ms, 120000);
}

TEST(Wrk, MissingFiguresAreAnError) {
    WrkResult result = parse_wrk("unable to connect to 192.168.100.2:8080 Connection refused\n");
    EXPECT_FALSE(result.ok);
    EXPECT_NE(result.error, "");
    EXPECT_FALSE(parse_wrk("Requests/sec: 10\n").ok);  // no --latency distribution
}

TEST(Cpio, NewcLayout) {
    CpioWriter cpio;
    cpio.file("init", "abcde", 0755);
    std::string out = cpio.finish();
    ASSERT_EQ(out.substr(0, 6), "070701");
    // Header (110) + "init\0" (5) padded to 116, then 5 bytes of data padded to 124.
    EXPECT_EQ(out.substr(110, 5), std::string("init\0", 5));
    EXPECT_EQ(out.substr(116, 5), "abcde");
    EXPECT_EQ(out.substr(124, 6), "070701");
    EXPECT_NE(out.find("TRAILER!!!"), std::string::npos);
    EXPECT_EQ(out.size() % 4, 0u);
    // c_filesize is the 7th field: 6 + 6 * 8 characters in.
    EXPECT_EQ(out.substr(54, 8), "00000005");
}

}  // namespace
}  // namespace bench::net
