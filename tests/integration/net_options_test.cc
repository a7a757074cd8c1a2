// phx's network options without a VM: the -p grammar and its errors, config.json's Ports,
// UDPPorts and TapName, the host-port check, and the QEMU runner's -netdev/-device words.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "phx/config/config_file.h"
#include "phx/config/port_spec.h"
#include "phx/error.h"
#include "phx/runners/qemu.h"

namespace {

using vmm::net::PortForward;

std::vector<PortForward> spec(const std::string& text, bool udp = false) {
    std::vector<PortForward> out;
    phx::parse_port_spec("-p", text, udp, out);
    return out;
}

std::string error_of(const std::string& text) {
    try {
        spec(text);
    } catch (const phx::PhxError& e) {
        EXPECT_EQ(e.status(), phx::kExitUsage);
        return e.what();
    }
    return "(no error)";
}

TEST(PortSpec, FormsOfMinusP) {
    EXPECT_EQ(spec("8080"), (std::vector<PortForward>{{false, 8080, 8080}}));
    EXPECT_EQ(spec("8080:80"), (std::vector<PortForward>{{false, 8080, 80}}));
    EXPECT_EQ(spec("5353/udp"), (std::vector<PortForward>{{true, 5353, 5353}}));
    EXPECT_EQ(spec("53:5353", true), (std::vector<PortForward>{{true, 53, 5353}}));
    EXPECT_EQ(spec("80/tcp", true), (std::vector<PortForward>{{false, 80, 80}}));
    EXPECT_EQ(
        spec("8000-8002"),
        (std::vector<PortForward>{{false, 8000, 8000}, {false, 8001, 8001}, {false, 8002, 8002}}));
    EXPECT_EQ(spec("8000-8001:9000-9001"),
              (std::vector<PortForward>{{false, 8000, 9000}, {false, 8001, 9001}}));
    EXPECT_EQ(spec("80,443:8443"), (std::vector<PortForward>{{false, 80, 80}, {false, 443, 8443}}));
    EXPECT_EQ(spec("1"), (std::vector<PortForward>{{false, 1, 1}}));
    EXPECT_EQ(spec("65535"), (std::vector<PortForward>{{false, 65535, 65535}}));
}

TEST(PortSpec, BadValuesNameTheProblem) {
    const std::string grammar =
        ": expected HOST[:GUEST][/udp], each a port like 8080 or a range like 8000-8010";
    EXPECT_EQ(error_of("0"), "-p 0: ports are 1 to 65535");
    EXPECT_EQ(error_of("70000"), "-p 70000: ports are 1 to 65535");
    EXPECT_EQ(error_of("99999999999999999999999"),
              "-p 99999999999999999999999: ports are 1 to 65535");
    EXPECT_EQ(error_of("8080:0"), "-p 8080:0: ports are 1 to 65535");
    EXPECT_EQ(error_of("abc"), "-p abc" + grammar);
    EXPECT_EQ(error_of(""), "-p " + grammar);
    EXPECT_EQ(error_of("80:"), "-p 80:" + grammar);
    EXPECT_EQ(error_of("-80"), "-p -80" + grammar);
    EXPECT_EQ(error_of("80,"), "-p 80," + grammar);
    EXPECT_EQ(error_of("+80"), "-p +80" + grammar);
    EXPECT_EQ(error_of("80/sctp"), "-p 80/sctp: the protocol after '/' is tcp or udp");
    EXPECT_EQ(error_of("90-80"), "-p 90-80: a range goes from low to high");
    EXPECT_EQ(error_of("8000-8010:9000"),
              "-p 8000-8010:9000: the host and guest ranges differ in length");
    EXPECT_EQ(error_of("1-65535"), "-p 1-65535: too many ports (at most 1024)");
}

TEST(PortSpec, DuplicatesAndTooManyAreRefused) {
    EXPECT_NO_THROW(phx::check_forwards({{false, 80, 80}, {true, 80, 80}}));  // TCP and UDP
    try {
        phx::check_forwards({{false, 80, 80}, {false, 80, 81}});
        FAIL();
    } catch (const phx::PhxError& e) {
        EXPECT_STREQ(e.what(), "host TCP port 80 is forwarded twice");
    }
    std::vector<PortForward> many;
    phx::add_port_ranges({{1000, 1999}, {3000, 3100}}, false, many);
    EXPECT_EQ(many.size(), 1101u);
    EXPECT_THROW(phx::check_forwards(many), phx::PhxError);
}

TEST(PortSpec, HostPortHeldByAnotherProcessIsNamed) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ASSERT_EQ(listen(fd, 1), 0);
    socklen_t length = sizeof(address);
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    uint16_t port = ntohs(address.sin_port);
    try {
        phx::check_host_ports_free({{false, port, 80}});
        ADD_FAILURE() << "no error";
    } catch (const phx::PhxError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "host TCP port " + std::to_string(port) + " is already in use");
    }
    close(fd);
    EXPECT_NO_THROW(phx::check_host_ports_free({{false, port, 80}}));
}

TEST(PortSpec, ConfigPortsUdpPortsAndTapName) {
    auto config = phx::parse_config(
        R"({"RunConfig": {"Ports": ["80", "8000-8001"], "UDPPorts": ["53"], "TapName": "phx0"}})",
        "config.json");
    std::vector<PortForward> forwards;
    phx::add_port_ranges(config.run.ports, false, forwards);
    phx::add_port_ranges(config.run.udp_ports, true, forwards);
    EXPECT_EQ(forwards,
              (std::vector<PortForward>{
                  {false, 80, 80}, {false, 8000, 8000}, {false, 8001, 8001}, {true, 53, 53}}));
    EXPECT_EQ(config.run.tap_name, "phx0");
    EXPECT_FALSE(phx::parse_config(R"({"RunConfig": {"TapName": ""}})", "c").run.tap_name);
    EXPECT_THROW(phx::parse_config(R"({"RunConfig": {"TapName": "a/b"}})", "c"), phx::PhxError);
    EXPECT_THROW(phx::parse_config(R"({"RunConfig": {"TapName": "sixteen-chars-xx"}})", "c"),
                 phx::PhxError);
    EXPECT_THROW(phx::parse_config(R"({"RunConfig": {"UDPPorts": ["0"]}})", "c"), phx::PhxError);
    EXPECT_THROW(phx::parse_config(R"({"RunConfig": {"UDPPorts": [53]}})", "c"), phx::PhxError);
}

std::string joined(const std::vector<std::string>& args) {
    std::string line;
    for (const auto& a : args) line += (line.empty() ? "" : " ") + a;
    return line;
}

phx::RunSpec qemu_spec(vmm::net::NetMode mode, phx::Machine machine = phx::Machine::Microvm) {
    phx::RunSpec spec;
    spec.kernel_path = "/k.elf";
    spec.machine = machine;
    spec.net.mode = mode;
    spec.mac = {0x52, 0x54, 0x00, 0x0a, 0xbc, 0xde};
    return spec;
}

TEST(QemuNetwork, UserNetworkWithForwardsOnMicrovm) {
    auto spec = qemu_spec(vmm::net::NetMode::Slirp);
    spec.net.forwards = {{false, 8080, 80}, {true, 5353, 53}};
    std::string line = joined(phx::QemuRunner::command_line(spec, phx::Accel::Tcg, "/w/status"));
    EXPECT_NE(line.find(" -netdev user,id=n0,net=10.0.2.0/24,host=10.0.2.2,dns=10.0.2.3,"
                        "dhcpstart=10.0.2.15,ipv6=off,hostfwd=tcp::8080-:80,hostfwd=udp::5353-:53"
                        " -device virtio-net-device,netdev=n0,mac=52:54:00:0a:bc:de "),
              std::string::npos)
        << line;
}

TEST(QemuNetwork, TapOnQ35IsVirtioNetPci) {
    auto spec = qemu_spec(vmm::net::NetMode::Tap, phx::Machine::Q35);
    spec.net.tap_name = "phx0";
    std::string line = joined(phx::QemuRunner::command_line(spec, phx::Accel::Tcg, "/w/status"));
    EXPECT_NE(line.find(" -netdev tap,id=n0,ifname=phx0,script=no,downscript=no"
                        " -device virtio-net-pci,netdev=n0,mac=52:54:00:0a:bc:de "),
              std::string::npos)
        << line;
}

TEST(QemuNetwork, NoNetworkNoNic) {
    std::string line = joined(phx::QemuRunner::command_line(qemu_spec(vmm::net::NetMode::None),
                                                            phx::Accel::Tcg, "/w/status"));
    EXPECT_EQ(line.find("-netdev"), std::string::npos);
    EXPECT_EQ(line.find("virtio-net"), std::string::npos);
}

}  // namespace
