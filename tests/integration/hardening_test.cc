// Kernel hardening seen from outside (docs/hardening.md): KASLR moves the kernel on every boot
// (virtually everywhere, physically under the builtin VMM) and phx.nokaslr puts it back at its
// link address; W^X, the boot stack's guard page and the stack protector each turn a
// deliberate kernel bug (phx.selftest=...) into the panic report that names it.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>

#include "tests/integration/phx_process.h"

namespace {

using phx_test::guest;
using phx_test::Outcome;
using phx_test::run_phx;

constexpr uint64_t kLinkBase = 0xffffffff80000000;
constexpr uint64_t kLargePage = 2ull << 20;

struct Placement {
    uint64_t virt;
    uint64_t phys;
};

// The kernel's "kaslr: kernel at 0x... (phys 0x...)" line.
std::optional<Placement> placement_in(const std::string& out) {
    const std::string marker = "kaslr: kernel at 0x";
    size_t at = out.find(marker);
    if (at == std::string::npos) return std::nullopt;
    char* end = nullptr;
    const char* text = out.c_str() + at + marker.size();
    uint64_t virt = std::strtoull(text, &end, 16);
    const std::string phys_marker = " (phys 0x";
    if (std::string(end).rfind(phys_marker, 0) != 0) return std::nullopt;
    uint64_t phys = std::strtoull(end + phys_marker.size(), nullptr, 16);
    return Placement{virt, phys};
}

class Hardening : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (phx_test::target_needs_kvm(GetParam()) && !phx_test::kvm_available())
            GTEST_SKIP() << "no usable /dev/kvm";
    }
    Outcome run(std::vector<std::string> kernel_args) {
        std::vector<std::string> args = {"run"};
        for (auto& arg : phx_test::target_args(GetParam())) args.push_back(arg);
        for (auto& word : kernel_args) args.insert(args.end(), {"--kernel-arg", word});
        args.push_back(guest("tiny_static"));
        return run_phx(args);
    }
    bool moves_physically() const { return GetParam() == "builtin"; }
};

// 20 boots. "Different every time" cannot be asserted as such: with 1021 virtual slots two of
// 20 boots share one 17% of the time (31% for the ~500 physical ones in 1 GiB). So: every base
// in range and aligned, none at the link address, and at least 16 (physical: 15) distinct,
// which fails by chance with a probability under 1e-5.
TEST_P(Hardening, KaslrMovesTheKernelOnEveryBoot) {
    constexpr int kBoots = 20;
    std::set<uint64_t> virts, physes;
    for (int i = 0; i < kBoots; ++i) {
        auto r = run({});
        ASSERT_EQ(r.status, 3) << r.out << r.err;
        auto p = placement_in(r.out);
        ASSERT_TRUE(p) << r.out;
        EXPECT_GE(p->virt, kLinkBase + kLargePage) << std::hex << p->virt;  // never 0 slide
        EXPECT_LE(p->virt, ~uint64_t(0) - kLargePage + 1) << std::hex << p->virt;
        EXPECT_EQ(p->virt % kLargePage, 0u) << std::hex << p->virt;
        EXPECT_EQ(p->phys % kLargePage, 0u) << std::hex << p->phys;
        EXPECT_LT(p->phys, 1ull << 30) << std::hex << p->phys;  // the image below 1 GiB
        if (!moves_physically()) {
            EXPECT_EQ(p->phys, 0u) << "QEMU loads at p_paddr";
        }
        virts.insert(p->virt);
        physes.insert(p->phys);
    }
    EXPECT_GE(virts.size(), 16u);
    if (moves_physically()) {
        EXPECT_GE(physes.size(), 15u);
    }
}

TEST_P(Hardening, NoKaslrRunsAtTheLinkAddress) {
    auto r = run({"phx.nokaslr"});
    ASSERT_EQ(r.status, 3) << r.out << r.err;
    EXPECT_NE(r.out.find("DISABLED by phx.nokaslr"), std::string::npos) << r.out;
    auto p = placement_in(r.out);
    ASSERT_TRUE(p) << r.out;
    EXPECT_EQ(p->virt, kLinkBase);
    EXPECT_EQ(p->phys, 0u);
}

// The address the selftest logged ("... at 0x...") must be the fault address.
void expect_fault_at_logged_address(const Outcome& r, const std::string& logged) {
    size_t at = r.out.find(logged);
    ASSERT_NE(at, std::string::npos) << r.out;
    uint64_t address = std::strtoull(r.out.c_str() + at + logged.size(), nullptr, 16);
    char expected[64];
    std::snprintf(expected, sizeof(expected), "fault address: 0x%016llx",
                  static_cast<unsigned long long>(address));
    EXPECT_NE(r.out.find(expected), std::string::npos) << expected << "\n" << r.out;
}

TEST_P(Hardening, WritingKernelTextIsAPageFault) {
    auto r = run({"phx.selftest=write-text"});
    EXPECT_EQ(r.status, 125) << r.out << r.err;
    // Error code 0x3: a write to a present page.
    EXPECT_NE(r.out.find("KERNEL FAULT: #PF page fault (vector 14, error code 0x3)"),
              std::string::npos) << r.out;
    expect_fault_at_logged_address(r, "selftest: writing to kernel text at 0x");
    EXPECT_NE(r.err.find("panicked"), std::string::npos) << r.err;
}

TEST_P(Hardening, ExecutingKernelDataIsAPageFault) {
    auto r = run({"phx.selftest=exec-data"});
    EXPECT_EQ(r.status, 125) << r.out << r.err;
    // Error code 0x11: an instruction fetch from a present page (NX).
    EXPECT_NE(r.out.find("KERNEL FAULT: #PF page fault (vector 14, error code 0x11)"),
              std::string::npos) << r.out;
    expect_fault_at_logged_address(r, "selftest: calling kernel data at 0x");
}

TEST_P(Hardening, SmashedStackCanaryPanics) {
    auto r = run({"phx.selftest=smash-stack"});
    EXPECT_EQ(r.status, 125) << r.out << r.err;
    EXPECT_NE(r.out.find("PANIC: stack smashing detected"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("smash_stack"), std::string::npos) << r.out;  // in the backtrace
}

// Without the guard page the recursion would run on through .bss; with it, the fault that
// cannot push its frame becomes a double fault, served on its own IST stack.
TEST_P(Hardening, BootStackOverflowHitsTheGuardPage) {
    auto r = run({"phx.selftest=stack-overflow"});
    EXPECT_EQ(r.status, 125) << r.out << r.err;
    EXPECT_NE(r.out.find("KERNEL FAULT: #DF double fault"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("recurse"), std::string::npos) << r.out;
}

TEST_P(Hardening, PanicSelftestIsAFailedRun) {
    auto r = run({"phx.selftest=panic"});
    EXPECT_EQ(r.status, 125) << r.out << r.err;
    EXPECT_NE(r.out.find("PANIC: selftest panic"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("panicked"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Target, Hardening, ::testing::Values("builtin", "qemu-tcg"));

}  // namespace
