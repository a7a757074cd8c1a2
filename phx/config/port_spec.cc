// The -p grammar and the host-port check.
#include "phx/config/port_spec.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <set>
#include <string_view>
#include <utility>

#include "phx/error.h"

namespace phx {

namespace {

using vmm::net::PortForward;

struct Range {
    uint32_t first = 0, last = 0;
};

[[noreturn]] void fail(const std::string& flag, const std::string& text, const std::string& why) {
    throw PhxError(kExitUsage, flag + " " + text + ": " + why);
}

// "8080" or "8000-8010".
Range parse_range(const std::string& flag, const std::string& text, std::string_view item) {
    auto number = [&](std::string_view digits) {
        uint64_t value = 0;
        auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (digits.empty() || error == std::errc::invalid_argument ||
            end != digits.data() + digits.size())
            fail(flag, text,
                 "expected HOST[:GUEST][/udp], each a port like 8080 or a range like 8000-8010");
        if (error == std::errc::result_out_of_range || value == 0 || value > 65535)
            fail(flag, text, "ports are 1 to 65535");
        return uint32_t(value);
    };
    size_t dash = item.find('-');
    Range range;
    range.first = number(item.substr(0, dash));
    range.last = dash == std::string_view::npos ? range.first : number(item.substr(dash + 1));
    if (range.last < range.first) fail(flag, text, "a range goes from low to high");
    return range;
}

}  // namespace

void parse_port_spec(const std::string& flag, const std::string& text, bool udp,
                     std::vector<PortForward>& out) {
    std::string_view rest = text;
    size_t slash = rest.rfind('/');
    if (slash != std::string_view::npos) {
        std::string_view protocol = rest.substr(slash + 1);
        if (protocol == "udp")
            udp = true;
        else if (protocol == "tcp")
            udp = false;
        else
            fail(flag, text, "the protocol after '/' is tcp or udp");
        rest = rest.substr(0, slash);
    }
    for (;;) {
        size_t comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        size_t colon = item.find(':');
        Range host = parse_range(flag, text, item.substr(0, colon));
        Range guest = colon == std::string_view::npos
                          ? host
                          : parse_range(flag, text, item.substr(colon + 1));
        if (guest.last - guest.first != host.last - host.first)
            fail(flag, text, "the host and guest ranges differ in length");
        if (host.last - host.first >= kMaxForwards)
            fail(flag, text, "too many ports (at most " + std::to_string(kMaxForwards) + ")");
        for (uint32_t i = 0; i <= host.last - host.first; ++i)
            out.push_back({udp, uint16_t(host.first + i), uint16_t(guest.first + i)});
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
}

void add_port_ranges(const std::vector<PortRange>& ranges, bool udp,
                     std::vector<PortForward>& out) {
    for (const PortRange& range : ranges) {
        if (uint32_t(range.last) - range.first >= kMaxForwards)
            throw PhxError(kExitUsage, "config.json: the range " + std::to_string(range.first) +
                                           "-" + std::to_string(range.last) +
                                           " has too many ports (at most " +
                                           std::to_string(kMaxForwards) + ")");
        for (uint32_t port = range.first; port <= range.last; ++port)
            out.push_back({udp, uint16_t(port), uint16_t(port)});
    }
}

void check_forwards(const std::vector<PortForward>& forwards) {
    if (forwards.size() > kMaxForwards)
        throw PhxError(kExitUsage, "too many forwarded ports: " + std::to_string(forwards.size()) +
                                       " (at most " + std::to_string(kMaxForwards) + ")");
    std::set<std::pair<bool, uint16_t>> seen;
    for (const PortForward& forward : forwards)
        if (!seen.insert({forward.udp, forward.host_port}).second)
            throw PhxError(kExitUsage, std::string("host ") + (forward.udp ? "UDP" : "TCP") +
                                           " port " + std::to_string(forward.host_port) +
                                           " is forwarded twice");
}

void check_tap_name(const std::string& what, const std::string& name) {
    bool ok = !name.empty() && name.size() <= 15 &&
              name.find_first_not_of(
                  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789-_.") == std::string::npos;
    if (!ok)
        throw PhxError(kExitUsage, what + " " + name +
                                       ": expected a network interface name (1 to 15 letters, "
                                       "digits, '-', '_' or '.')");
}

void check_host_ports_free(const std::vector<PortForward>& forwards) {
    for (const PortForward& forward : forwards) {
        std::string what = std::string("host ") + (forward.udp ? "UDP" : "TCP") + " port " +
                           std::to_string(forward.host_port);
        int fd = socket(AF_INET, (forward.udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
        if (fd < 0) throw PhxError(kExitUsage, what + ": socket: " + std::strerror(errno));
        // TCP as slirp and QEMU bind it: SO_REUSEADDR, so a port in TIME_WAIT is not "in use".
        int one = 1;
        if (!forward.udp) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(forward.host_port);
        address.sin_addr.s_addr = htonl(INADDR_ANY);
        int result = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
        if (result == 0 && !forward.udp) result = listen(fd, 1);
        int error = errno;
        close(fd);
        if (result == 0) continue;
        if (error == EADDRINUSE) throw PhxError(kExitUsage, what + " is already in use");
        if (error == EACCES)
            throw PhxError(kExitUsage, what + ": " + std::strerror(error) +
                                           " (ports below 1024 need privileges)");
        throw PhxError(kExitUsage, what + ": " + std::strerror(error));
    }
}

}  // namespace phx
