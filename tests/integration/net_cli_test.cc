// phx run's network flags end to end through the phx binary: bad values and busy host ports
// are one-line usage errors (status 2) before any VM starts, so no kernel or /dev/kvm needed.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/integration/phx_process.h"

namespace {

using phx_test::run_phx;

// A program path that exists; the flags fail before phx looks at it.
constexpr const char* kProgram = "/bin/true";

void expect_usage_error(const std::vector<std::string>& flags, const std::string& message) {
    std::vector<std::string> args = {"run"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back(kProgram);
    auto r = run_phx(args, 30);
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_EQ(r.err, "phx: " + message + "\n");
    EXPECT_EQ(r.out, "");
}

TEST(NetCli, BadPortsAreOneLineErrors) {
    expect_usage_error({"-p", "0"}, "-p 0: ports are 1 to 65535");
    expect_usage_error({"-p", "70000"}, "-p 70000: ports are 1 to 65535");
    expect_usage_error({"-p", "abc"},
                       "-p abc: expected HOST[:GUEST][/udp], each a port like 8080 or a range "
                       "like 8000-8010");
    expect_usage_error({"--udp-port", "0"}, "--udp-port 0: ports are 1 to 65535");
    expect_usage_error({"-p", "8080", "--port", "8080:81"},
                       "host TCP port 8080 is forwarded twice");
}

TEST(NetCli, ContradictoryNetworkFlags) {
    expect_usage_error({"--no-net", "-p", "8080"},
                       "--no-net: then there is no network to forward -p ports from");
    expect_usage_error({"--no-net", "--tap", "phx0"}, "--no-net and --tap: choose one");
    expect_usage_error({"--tap", "phx0", "-p", "8080"},
                       "-p with --tap phx0: forwards need the default user-mode network; on a "
                       "TAP device the guest has its own address");
}

TEST(NetCli, TapNamesThatAreNoInterfaceNames) {
    const std::string why =
        ": expected a network interface name (1 to 15 letters, digits, '-', '_' or '.')";
    expect_usage_error({"--tap", "a,script=/x"}, "--tap a,script=/x" + why);
    expect_usage_error({"--tap", "sixteen-chars-xx"}, "--tap sixteen-chars-xx" + why);
}

TEST(NetCli, HostPortInUseIsNamed) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ASSERT_EQ(listen(fd, 1), 0);
    socklen_t length = sizeof(address);
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    std::string port = std::to_string(ntohs(address.sin_port));
    expect_usage_error({"-p", port + ":80"}, "host TCP port " + port + " is already in use");
    close(fd);
}

TEST(NetCli, ConfigPortsAreCheckedToo) {
    std::string dir = phx_test::temp_dir("phx-net-config");
    {
        FILE* f = std::fopen((dir + "/config.json").c_str(), "w");
        ASSERT_TRUE(f);
        std::fputs(R"({"Program": "/bin/true", "RunConfig": {"UDPPorts": ["70000"]}})", f);
        std::fclose(f);
    }
    phx_test::PhxCall call;
    call.cwd = dir;
    call.args = {"run", "-c", "config.json"};
    auto r = run_phx(call);
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("RunConfig.UDPPorts[0] '70000': expected a port like"), std::string::npos)
        << r.err;
}

uint16_t free_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t length = sizeof(address);
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    close(fd);
    return ntohs(address.sin_port);
}

bool connects(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    close(fd);
    return ok;
}

// The builtin VMM binds the forward for the whole run, and a second phx asking for the same
// port is told it is in use. (The stub kernel never answers slirp's SYN: a host connect is
// accepted by slirp's listening socket all the same.)
TEST(NetCli, ForwardIsListeningWhileTheVmRunsAndBusyForAnotherPhx) {
    if (!phx_test::kvm_available()) GTEST_SKIP() << "no usable /dev/kvm";
    uint16_t port = free_port();
    ASSERT_FALSE(connects(port));
    std::atomic<bool> listened{false};
    std::string second_err;
    std::thread prober([&] {
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(8);
        while (!listened && std::chrono::steady_clock::now() < until) {
            if (connects(port)) listened = true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        if (listened) second_err = run_phx({"run", "-p", std::to_string(port), kProgram}, 30).err;
    });
    phx_test::PhxCall call;
    call.env["PHX_HOME"] = phx_test::temp_dir("phx-net-home");
    call.args = {"run",
                 "--hypervisor",
                 "builtin",
                 "--kernel",
                 phx_test::stub_kernel("hang"),
                 "-p",
                 std::to_string(port) + ":80",
                 kProgram};
    call.timeout_seconds = 5;
    auto r = run_phx(call);
    prober.join();
    EXPECT_TRUE(listened) << r.out << r.err;
    EXPECT_EQ(second_err, "phx: host TCP port " + std::to_string(port) + " is already in use\n");
}

// Reboots do not close the forward: a guest that resets 40 times in a row keeps the port.
TEST(NetCli, ForwardStaysBoundAcrossGuestResets) {
    if (!phx_test::kvm_available()) GTEST_SKIP() << "no usable /dev/kvm";
    uint16_t port = free_port();
    // Every probe's time and result; judged after the run, leaving out the last 50 ms before
    // phx returned: phx exits (closing the port) a little before run_phx returns, and a test
    // running in parallel may bind the same port number right after.
    using ProbeClock = std::chrono::steady_clock;
    std::atomic<bool> done{false};
    std::vector<std::pair<ProbeClock::time_point, bool>> probes;
    std::thread prober([&] {
        while (!done) {
            probes.emplace_back(ProbeClock::now(), connects(port));
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    });
    phx_test::PhxCall call;
    call.env["PHX_HOME"] = phx_test::temp_dir("phx-net-home");
    call.args = {"run",
                 "--hypervisor",
                 "builtin",
                 "--kernel",
                 phx_test::stub_kernel("reset"),
                 "--max-restarts",
                 "40",
                 "--restart-window",
                 "0",
                 "--restart-backoff",
                 "0",
                 "-p",
                 std::to_string(port),
                 kProgram};
    call.timeout_seconds = 60;
    auto r = run_phx(call);
    auto returned = ProbeClock::now();
    done = true;
    prober.join();
    EXPECT_EQ(r.status, 125) << r.err;  // the restart limit
    EXPECT_NE(r.err.find("phx: reboot 40: new VM in "), std::string::npos) << r.err;
    int ok = 0, refused_after_ok = 0, refused_streak = 0;
    for (const auto& [when, connected] : probes) {
        if (when > returned - std::chrono::milliseconds(50)) break;
        if (connected) {
            ++ok;
            refused_after_ok += std::exchange(refused_streak, 0);
        } else if (ok > 0) {
            ++refused_streak;  // counted only when the port comes back afterwards
        }
    }
    EXPECT_GT(ok, 0) << r.err;
    EXPECT_EQ(refused_after_ok, 0);
}

}  // namespace
