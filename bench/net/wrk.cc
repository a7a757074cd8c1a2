// wrk's report, e.g.:
//   Latency Distribution
//      50%   98.00us
//      99%    5.13ms
//   84612 requests in 2.01s, 8.71MB read
//   Socket errors: connect 0, read 0, write 0, timeout 3
//   Non-2xx or 3xx responses: 2
//   Requests/sec:  42191.81
#include "bench/net/wrk.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "bench/common/measure.h"

namespace bench::net {

namespace {

// wrk's durations: a number and us, ms, s, m or h.
bool parse_duration_ms(const std::string& text, double& ms) {
    char* end = nullptr;
    double value = std::strtod(text.c_str(), &end);
    if (end == text.c_str()) return false;
    std::string unit = end;
    if (unit == "us")
        ms = value / 1000;
    else if (unit == "ms")
        ms = value;
    else if (unit == "s")
        ms = value * 1000;
    else if (unit == "m")
        ms = value * 60000;
    else if (unit == "h")
        ms = value * 3600000;
    else
        return false;
    return true;
}

}  // namespace

WrkResult parse_wrk(const std::string& out) {
    WrkResult result;
    bool have_rps = false, have_p99 = false;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string first;
        words >> first;
        if (first == "Requests/sec:") {
            have_rps = bool(words >> result.requests_per_s);
        } else if (first == "99%") {
            std::string duration;
            have_p99 = (words >> duration) && parse_duration_ms(duration, result.p99_ms);
        } else if (line.find(" requests in ") != std::string::npos) {
            result.requests = std::atol(first.c_str());
        } else if (first == "Non-2xx") {
            auto colon = line.find(':');
            if (colon != std::string::npos) result.non_2xx = std::atol(line.c_str() + colon + 1);
        } else if (first == "Socket") {
            long a = 0, b = 0, c = 0, d = 0;
            if (std::sscanf(line.c_str(),
                            " Socket errors: connect %ld, read %ld, write %ld, "
                            "timeout %ld",
                            &a, &b, &c, &d) == 4)
                result.socket_errors = a + b + c + d;
        }
    }
    result.ok = have_rps && have_p99;
    if (!result.ok)
        result.error = std::string("wrk printed no ") + (have_rps ? "99% latency" : "Requests/sec");
    return result;
}

WrkResult run_wrk(const std::string& url, int seconds, int connections, int threads,
                  std::string& out) {
    // wrk's own timeout per request is 2 s; a slow guest's long tail must count, not time out.
    Output output =
        capture({"/usr/bin/wrk", "-t", std::to_string(threads), "-c", std::to_string(connections),
                 "-d", std::to_string(seconds) + "s", "--timeout", "10s", "--latency", url},
                (seconds + 60) * 1000);
    out = output.out;
    if (output.status == -1 && !output.timed_out && out.empty()) {
        WrkResult missing;
        missing.error = "cannot run /usr/bin/wrk (Debian: wrk; scripts/deps installs it)";
        return missing;
    }
    WrkResult result = parse_wrk(out);
    if (output.timed_out) {
        result.ok = false;
        result.error = "wrk did not finish";
    } else if (!result.ok && output.status != 0) {
        result.error = "wrk exited with status " + std::to_string(output.status);
    }
    return result;
}

}  // namespace bench::net
