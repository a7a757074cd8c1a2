// Driving a server with wrk and reading its report.
#pragma once

#include <string>

namespace bench::net {

struct WrkResult {
    bool ok = false;
    std::string error;          // when !ok: why there are no figures
    double requests_per_s = 0;  // "Requests/sec:"
    double p99_ms = 0;          // "99%" of the --latency distribution
    long requests = 0;          // "N requests in ..."
    long non_2xx = 0;           // "Non-2xx or 3xx responses: N"
    long socket_errors = 0;     // "Socket errors: connect A, read B, write C, timeout D"
};

// Parses wrk's report (wrk 4.x, run with --latency).
WrkResult parse_wrk(const std::string& out);

// Runs wrk -t threads -c connections -d seconds --latency url (wrk's stdout is returned in
// `out` for the log); a missing wrk or a report without figures is an error.
WrkResult run_wrk(const std::string& url, int seconds, int connections, int threads,
                  std::string& out);

}  // namespace bench::net
