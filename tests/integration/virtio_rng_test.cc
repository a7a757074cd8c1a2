// virtio-mmio discovery and virtio-rng seeding, booted on every target: Phoenix's VMM and
// QEMU microvm (KVM and TCG) both attach a virtio-rng device and announce it on the kernel
// command line; the kernel must find it and seed its random pool from it.
#include <gtest/gtest.h>

#include <sstream>

#include "tests/integration/phx_process.h"

namespace {

using phx_test::guest;
using phx_test::Outcome;
using phx_test::run_phx;

// The first console line containing `needle`, or "" when none does.
std::string line_with(const std::string& text, const std::string& needle) {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
        if (line.find(needle) != std::string::npos) return line;
    return "";
}

class VirtioRng : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (phx_test::target_needs_kvm(GetParam()) && !phx_test::kvm_available())
            GTEST_SKIP() << "no usable /dev/kvm";
    }
    Outcome run(std::vector<std::string> kernel_args = {}) {
        std::vector<std::string> args = {"run"};
        for (auto& arg : phx_test::target_args(GetParam())) args.push_back(arg);
        for (auto& word : kernel_args) args.insert(args.end(), {"--kernel-arg", word});
        args.push_back(guest("tiny_static"));
        return run_phx(args);
    }
};

TEST_P(VirtioRng, DeviceFoundAndPoolSeededFromIt) {
    auto r = run();
    EXPECT_EQ(r.status, 3) << r.out << r.err;
    std::string found = line_with(r.out, "virtio-mmio: rng at 0x");
    EXPECT_NE(found, "") << r.out;
    EXPECT_NE(found.find(" irq "), std::string::npos) << found;
    std::string seeded = line_with(r.out, "random: seeded from");
    EXPECT_NE(seeded.find("virtio-rng"), std::string::npos) << r.out;
    EXPECT_EQ(line_with(r.out, "virtio-rng:"), "") << "no timeout or error: " << r.out;
}

// Words the kernel must refuse without touching the addresses they name: one line for the
// malformed ones, one per window that overlaps RAM. The real device still seeds the pool.
TEST_P(VirtioRng, BadCommandLineWordsAreReportedAndIgnored) {
    auto r = run({"virtio_mmio.device=4K@zz:5", "virtio_mmio.device=0@0xd8000000:6",
                  "virtio_mmio.device=4K@0x200000:7"});
    EXPECT_EQ(r.status, 3) << r.out << r.err;
    std::string bad = line_with(r.out, "virtio-mmio: ignored 2 bad virtio_mmio.device word");
    EXPECT_NE(bad.find("'4K@zz:5' (EINVAL)"), std::string::npos) << r.out;
    EXPECT_NE(line_with(r.out, "0x200000+0x1000 is too small or overlaps RAM"), "") << r.out;
    EXPECT_NE(line_with(r.out, "random: seeded from").find("virtio-rng"), std::string::npos)
        << r.out;
}

INSTANTIATE_TEST_SUITE_P(Target, VirtioRng, ::testing::Values("builtin", "qemu-kvm", "qemu-tcg"));

}  // namespace
