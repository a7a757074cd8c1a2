// Waiting for a server to answer: TCP connect + GET, retried until a deadline.
#pragma once

#include <functional>
#include <string>

namespace bench::net {

// One GET / on a fresh connection; true when it answered "HTTP/1.x 200" within timeout_ms.
bool http_get_ok(const std::string& host, int port, int timeout_ms);

enum class ProbeResult { Answered, Exited, TimedOut };

// Probes every 50 ms until the server answers, `alive` says it has ended, or timeout_ms.
ProbeResult wait_until_answering(const std::string& host, int port, int timeout_ms,
                                 const std::function<bool()>& alive);

}  // namespace bench::net
