// The ASLR census: one image booted 200 times on our VMM (RebootOnExit "*": every exit is a
// rebirth), tests/guest/layout.c printing each boot's stack, heap, brk, mmap, PIE, libc and
// vDSO addresses and the kernel logging its own base. No two boots may share any of them, and
// each region's measured entropy (the address bits that differ across the boots) is printed
// beside Linux's, from the same binary run 200 times on this host, and must not be lower.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/phx_process.h"

namespace {

constexpr int kBoots = 200;
const char* const kRegions[] = {"stack", "heap", "brk", "mmap", "pie", "libc", "vdso"};

using Samples = std::map<std::string, std::vector<uint64_t>>;

// "layout stack=0x... heap=0x..." lines into samples per region.
void parse_layouts(const std::string& text, Samples& samples) {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        size_t at = line.find("layout ");
        if (at == std::string::npos) continue;
        std::istringstream words(line.substr(at + 7));
        for (std::string word; words >> word;) {
            size_t equals = word.find('=');
            if (equals == std::string::npos) continue;
            samples[word.substr(0, equals)].push_back(std::stoull(word.substr(equals + 1), nullptr, 16));
        }
    }
}

// The kernel's "kaslr: kernel at 0x..." lines.
std::vector<uint64_t> kernel_bases(const std::string& text) {
    std::vector<uint64_t> bases;
    const std::string marker = "kernel at 0x";
    for (size_t at = text.find(marker); at != std::string::npos; at = text.find(marker, at + 1))
        bases.push_back(std::stoull(text.substr(at + marker.size() - 2, 20), nullptr, 16));
    return bases;
}

int varying_bits(const std::vector<uint64_t>& values) {
    uint64_t differ = 0;
    for (uint64_t v : values) differ |= v ^ values.front();
    return __builtin_popcountll(differ);
}

size_t distinct(const std::vector<uint64_t>& values) { return std::set<uint64_t>(values.begin(), values.end()).size(); }

TEST(Aslr, TwoHundredBootsShareNoAddressAndBeatLinuxEntropy) {
    if (!phx_test::kvm_available()) GTEST_SKIP() << "no usable /dev/kvm (the census runs on our VMM)";
    std::string home = phx_test::temp_dir("phx-home");
    std::string config = home + "/config.json";
    std::FILE* file = std::fopen(config.c_str(), "w");
    ASSERT_TRUE(file);
    std::fputs(R"({"RebootOnExit": "*"})", file);
    std::fclose(file);
    phx_test::PhxCall call;
    call.args = {"run", "--hypervisor", "builtin", "-c", config, "--no-net", "--max-restarts",
                 std::to_string(kBoots - 1), "--restart-window", "0", "--restart-backoff", "0",
                 phx_test::guest("layout")};
    call.env["PHX_HOME"] = home;
    call.timeout_seconds = 800;
    auto r = phx_test::run_phx(call);
    ASSERT_FALSE(r.timed_out) << r.err;
    EXPECT_NE(r.err.find("kept resetting: " + std::to_string(kBoots - 1) + " restarts"), std::string::npos) << r.err;

    Samples phoenix;
    parse_layouts(r.out, phoenix);
    std::vector<uint64_t> kernel = kernel_bases(r.out);

    Samples linux_runs;
    for (int i = 0; i < kBoots; ++i) {
        std::FILE* pipe = popen(phx_test::guest("layout").c_str(), "r");
        ASSERT_TRUE(pipe);
        char line[512];
        std::string text;
        while (std::fgets(line, sizeof(line), pipe)) text += line;
        pclose(pipe);
        parse_layouts(text, linux_runs);
    }

    std::printf("ASLR over %d boots (Phoenix, our VMM) and %d runs (Linux, this host): varying address bits\n",
                kBoots, kBoots);
    std::printf("  %-8s %8s %8s %10s\n", "region", "Phoenix", "Linux", "distinct");
    for (const char* region : kRegions) {
        const auto& ours = phoenix[region];
        const auto& theirs = linux_runs[region];
        ASSERT_EQ(ours.size(), size_t(kBoots)) << region << "\n" << r.out.substr(0, 4000);
        ASSERT_EQ(theirs.size(), size_t(kBoots)) << region;
        std::printf("  %-8s %8d %8d %6zu/%d\n", region, varying_bits(ours), varying_bits(theirs), distinct(ours), kBoots);
        EXPECT_EQ(distinct(ours), size_t(kBoots)) << region << ": two boots shared an address";
        EXPECT_GE(varying_bits(ours), varying_bits(theirs)) << region << ": less entropy than Linux";
    }
    ASSERT_EQ(kernel.size(), size_t(kBoots)) << "the kernel did not log its base on every boot";
    std::printf("  %-8s %8d %8s %6zu/%d\n", "kernel", varying_bits(kernel), "9*", distinct(kernel), kBoots);
    std::printf("  (* Linux's KASLR default: 9 bits of 2 MiB slots for the kernel text)\n");
    // The kernel has 1021 slots 2 MiB apart: 200 fair draws give 1021 * (1 - (1 - 1/1021)^200)
    // = 181.6 distinct bases on average (standard deviation about 4), so fewer than 160 means
    // a biased draw. And it moves over at least Linux's 9 bits.
    EXPECT_GE(varying_bits(kernel), 9);
    EXPECT_GE(distinct(kernel), 160u);
}

}  // namespace
