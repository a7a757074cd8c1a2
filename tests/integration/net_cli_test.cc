// phx run's network flags end to end through the phx binary: bad values and busy host ports
// are one-line usage errors (status 2) before any VM starts, so no kernel or /dev/kvm needed.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

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

}  // namespace
