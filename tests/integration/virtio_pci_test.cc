// virtio over PCI, booted on QEMU q35 (`phx run --machine`, TCG and KVM): the kernel must find
// virtio-rng-pci and virtio-blk-pci on the PCI bus, place their BARs (qboot assigns none),
// seed its random pool from the rng and mount the root filesystem from the disk. Three device
// flavours: QEMU's default transitional devices on the root bus (driven through the modern
// interface), modern-only ones (device IDs 0x1040 + type) behind PCIe root ports (the kernel
// opens the ports' windows), and legacy-only ones (I/O BAR, page-number rings).
#include <gtest/gtest.h>

#include <sstream>
#include <tuple>

#include "tests/integration/phx_process.h"

namespace {

using phx_test::guest;
using phx_test::Outcome;
using phx_test::PhxCall;
using phx_test::run_phx;

// The first console line containing `needle`, or "" when none does.
std::string line_with(const std::string& text, const std::string& needle) {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
        if (line.find(needle) != std::string::npos) return line;
    return "";
}

// (machine, accelerator)
using Target = std::tuple<std::string, std::string>;

class VirtioPci : public ::testing::TestWithParam<Target> {
protected:
    void SetUp() override {
        if (accel() == "kvm" && !phx_test::kvm_available()) GTEST_SKIP() << "no usable /dev/kvm";
        home = phx_test::temp_dir("phx-home");
    }
    const std::string& machine() const { return std::get<0>(GetParam()); }
    const std::string& accel() const { return std::get<1>(GetParam()); }
    // The interface the kernel should pick: modern whenever the device offers it.
    std::string interface() const { return machine() == "q35-legacy" ? "(legacy)" : "(modern)"; }
    // A device's log line names its place: behind a root port, a bus of its own.
    void expect_found(const std::string& out, const std::string& name) const {
        std::string found = line_with(out, "virtio-pci: " + name + " at ");
        EXPECT_NE(found.find(interface()), std::string::npos) << out;
        bool on_root_bus = found.find(" at 00:") != std::string::npos;
        EXPECT_EQ(on_root_bus, machine() != "q35-pcie") << found;
    }

    Outcome run(const std::string& program, std::vector<std::string> extra = {}) {
        PhxCall call;
        call.args = {"run",   "--hypervisor", "qemu",    "--accel",
                     accel(), "--machine",    machine(), guest(program)};
        call.args.insert(call.args.end(), extra.begin(), extra.end());
        call.env["PHX_HOME"] = home;
        return run_phx(call);
    }
    std::string home;
};

TEST_P(VirtioPci, RngFoundAndPoolSeededFromIt) {
    auto r = run("tiny_static");
    EXPECT_EQ(r.status, 3) << r.out << r.err;
    expect_found(r.out, "rng");
    EXPECT_NE(line_with(r.out, "random: seeded from").find("virtio-rng"), std::string::npos)
        << r.out;
    EXPECT_EQ(line_with(r.out, "virtio-rng:"), "") << "no timeout or error: " << r.out;
    EXPECT_EQ(line_with(r.out, "virtio-mmio:"), "") << "q35 has no virtio-mmio: " << r.out;
    EXPECT_EQ(line_with(r.out, "ignored"), "") << r.out;
}

TEST_P(VirtioPci, DynamicProgramRunsFromTheDisk) {
    auto r = run("hello_dynamic", {"-e", "PHX_TEST_ENV=pci", "--", "one"});
    EXPECT_EQ(r.status, 7) << r.out << r.err;
    expect_found(r.out, "block");
    expect_found(r.out, "rng");
    EXPECT_NE(line_with(r.out, "virtio-blk: "), "") << r.out;
    EXPECT_NE(line_with(r.out, "root: ext2"), "") << r.out;
    EXPECT_NE(r.out.find("argv[0]=/hello_dynamic"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("argv[1]=one"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("PHX_TEST_ENV=pci"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("passwd listed: 1"), std::string::npos) << r.out;
}

std::string target_name(const ::testing::TestParamInfo<Target>& info) {
    std::string name = std::get<0>(info.param) + "_" + std::get<1>(info.param);
    for (char& c : name)
        if (c == '-') c = '_';
    return name;
}

INSTANTIATE_TEST_SUITE_P(Machine, VirtioPci,
                         ::testing::Combine(::testing::Values("q35", "q35-pcie", "q35-legacy"),
                                            ::testing::Values("tcg", "kvm")),
                         target_name);

// Only QEMU emulates q35.
TEST(VirtioPciFlags, MachineNeedsQemu) {
    auto r = run_phx({"run", "--hypervisor", "builtin", "--machine", "q35", guest("tiny_static")});
    EXPECT_EQ(r.status, 2) << r.out << r.err;
    EXPECT_NE(r.err.find("--machine q35 needs --hypervisor qemu"), std::string::npos) << r.err;
}

}  // namespace
