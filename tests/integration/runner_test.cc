// phx's runner mechanics, independent of the Phoenix kernel: stand-in PVH kernels
// (stub_kernels/) report each status the boot protocol allows, dump the manifest phx wrote,
// or hang so that signal forwarding can be checked.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "lib/manifest/manifest.h"
#include "tests/integration/phx_process.h"

namespace {

using lib::manifest::Manifest;
using lib::manifest::RecordType;
using phx_test::guest;
using phx_test::Outcome;
using phx_test::PhxCall;
using phx_test::run_phx;
using phx_test::stub_kernel;

// A fresh directory to pass as $TMPDIR, to see what phx leaves behind.
class ScratchDir {
public:
    ScratchDir() {
        std::string pattern = ::testing::TempDir() + "/phx-runner-test-XXXXXX";
        m_path = mkdtemp(pattern.data()) ? pattern : "";
    }
    ~ScratchDir() {
        std::error_code ignored;
        std::filesystem::remove_all(m_path, ignored);
    }
    const std::string& path() const { return m_path; }
    bool empty() const { return std::filesystem::is_empty(m_path); }

private:
    std::string m_path;
};

// target: one of phx_test::kTargets.
Outcome run_stub(const std::string& kernel, const std::string& target,
                 std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"run"};
    for (auto& arg : phx_test::target_args(target)) args.push_back(arg);
    args.insert(args.end(), {"--kernel", stub_kernel(kernel), guest("tiny_static")});
    args.insert(args.end(), extra.begin(), extra.end());
    return run_phx(args);
}

class Runner : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (phx_test::target_needs_kvm(GetParam()) && !phx_test::kvm_available())
            GTEST_SKIP() << "no usable /dev/kvm";
    }
    bool qemu() const { return GetParam() != "builtin"; }
};

TEST_P(Runner, ExitLineBecomesTheExitStatus) {
    auto r = run_stub("exit", GetParam());
    EXPECT_EQ(r.status, 42) << r.out << r.err;
    EXPECT_NE(r.out.find("stub: exit 42"), std::string::npos) << "console not on stdout: " << r.out;
    EXPECT_EQ(r.err, "");
}

TEST_P(Runner, PanicLineIsAVmFailure) {
    auto r = run_stub("panic", GetParam());
    EXPECT_EQ(r.status, 125) << r.out << r.err;
    EXPECT_NE(r.out.find("stub: panic"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("phx: the Phoenix kernel panicked"), std::string::npos) << r.err;
}

TEST_P(Runner, ExitPortAloneIsTheFallback) {
    auto r = run_stub("port_only", GetParam());  // writes 5: QEMU exits with 11
    EXPECT_EQ(r.status, 5) << r.out << r.err;
}

TEST_P(Runner, VerboseNamesTheAcceleratorAndTheCommandLine) {
    auto r = run_stub("exit", GetParam(), {"-v", "-m", "256M"});
    EXPECT_EQ(r.status, 42) << r.err;
    if (!qemu()) {
        EXPECT_NE(r.err.find("hypervisor: builtin (KVM), 256 MiB"), std::string::npos) << r.err;
        return;
    }
    bool tcg = GetParam() == "qemu-tcg";
    EXPECT_NE(r.err.find(tcg ? "-accel tcg -cpu max" : "-accel kvm -cpu host,-arch-capabilities"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find(tcg ? "accelerator: tcg" : "accelerator: kvm"), std::string::npos);
    for (const char* part :
         {"qemu-system-x86_64 -M microvm,x-option-roms=off,rtc=on -nodefaults -no-user-config "
          "-display none -no-reboot -m 256M",
          // The console's copy for crash reports (docs/crash-reports.md) in the work dir.
          "-chardev stdio,id=console,signal=on,logfile=/", "/console.log,logappend=off",
          "-serial chardev:console -debugcon file:",
          "-global isa-debugcon.iobase=0x402 -device isa-debug-exit,iobase=0xf4,iosize=4"})
        EXPECT_NE(r.err.find(part), std::string::npos) << part << "\n" << r.err;
}

INSTANTIATE_TEST_SUITE_P(Target, Runner, ::testing::Values("builtin", "qemu-kvm", "qemu-tcg"));

// A reset without a status line, with restarts off. TCG only: on nested KVM hosts a triple
// fault can stop QEMU with "KVM internal error" instead of resetting.
TEST(RunnerTcg, ResetWithoutStatusIsAVmFailure) {
    auto r = run_stub("triple", "qemu-tcg", {"--no-restart"});
    EXPECT_EQ(r.status, 125) << r.out << r.err;
    EXPECT_NE(r.err.find("VM stopped without reporting a status"), std::string::npos) << r.err;
}

TEST(RunnerTcg, ManifestCarriesProgramArgsEnvFlagsAndImage) {
    auto r = run_stub("manifest", "qemu-tcg",
                      {"-e", "A=1", "-e", "B=x=y", "-d", "fault", "--trace", "--", "one",
                       "two words", "-e", "--"});
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    auto begin = r.out.find("MANIFEST-BEGIN\n");
    auto end = r.out.find("\nMANIFEST-END");
    ASSERT_NE(begin, std::string::npos) << r.out;
    ASSERT_NE(end, std::string::npos) << r.out;
    std::string hex = r.out.substr(begin + 15, end - begin - 15);
    ASSERT_EQ(hex.size() % 2, 0u);
    std::vector<std::byte> bytes;
    for (size_t i = 0; i < hex.size(); i += 2)
        bytes.push_back(std::byte(std::stoi(hex.substr(i, 2), nullptr, 16)));

    auto parsed = Manifest::parse(bytes);
    ASSERT_FALSE(parsed.is_error());
    const Manifest& manifest = parsed.value();
    EXPECT_EQ(manifest.program(), "/tiny_static");
    auto texts = [&](RecordType type) {
        std::vector<std::string> out;
        manifest.for_each(type, [&](const auto& record) { out.emplace_back(record.text()); });
        return out;
    };
    EXPECT_EQ(texts(RecordType::Arg), (std::vector<std::string>{"one", "two words", "-e", "--"}));
    EXPECT_EQ(texts(RecordType::Env), (std::vector<std::string>{"A=1", "B=x=y"}));
    EXPECT_EQ(texts(RecordType::DebugFlag), (std::vector<std::string>{"fault", "trace"}));
    std::ifstream program(guest("tiny_static"), std::ios::binary);
    std::vector<char> file{std::istreambuf_iterator<char>(program), {}};
    auto image = manifest.program_image();
    ASSERT_EQ(image.size(), file.size());
    EXPECT_EQ(std::memcmp(image.data(), file.data(), file.size()), 0);
}

int count_of(const std::string& text, const std::string& needle) {
    int count = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
        ++count;
    return count;
}

// A guest that resets itself on every boot comes back each time, a fresh VM per boot, until
// the restart limit stops the crash loop.
TEST(RunnerBuiltin, GuestThatResetsComesBackAHundredTimes) {
    if (!phx_test::kvm_available()) GTEST_SKIP() << "no usable /dev/kvm";
    auto r = run_stub("reset", "builtin",
                      {"--max-restarts", "100", "--restart-window", "0", "--restart-backoff", "0"});
    EXPECT_EQ(r.status, 125) << r.err;
    EXPECT_EQ(count_of(r.out, "stub: reset"), 101) << r.out;
    EXPECT_EQ(count_of(r.err, "guest reset (i8042 reset)"), 101) << r.err;
    EXPECT_NE(r.err.find("phx: reboot 100: new VM in "), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("phx: reboot 101:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("restart limit"), std::string::npos) << r.err;
}

TEST(RunnerBuiltin, NoRestartMakesAResetAFailure) {
    if (!phx_test::kvm_available()) GTEST_SKIP() << "no usable /dev/kvm";
    auto r = run_stub("reset", "builtin", {"--no-restart"});
    EXPECT_EQ(r.status, 125) << r.err;
    EXPECT_EQ(count_of(r.out, "stub: reset"), 1) << r.out;
    EXPECT_NE(r.err.find("not to restart"), std::string::npos) << r.err;
}

// Quick successive resets back off: with the first 10 free, the 11th waits 10 ms, the 12th
// 20 ms... so 15 restarts take at least 10+20+40+80+160 ms.
TEST(RunnerBuiltin, CrashLoopBacksOffExponentially) {
    if (!phx_test::kvm_available()) GTEST_SKIP() << "no usable /dev/kvm";
    auto start = std::chrono::steady_clock::now();
    auto r = run_stub("reset", "builtin", {"--max-restarts", "15", "--restart-backoff", "10"});
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
    EXPECT_EQ(r.status, 125) << r.err;
    EXPECT_GE(ms, 310) << r.err;
    EXPECT_NE(r.err.find("restarting in 160 ms"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("restarting in 320 ms"), std::string::npos) << r.err;
}

// The QEMU runner restarts QEMU the same way (-no-reboot: a reset ends the QEMU process).
TEST(RunnerTcg, GuestThatResetsComesBackUnderQemu) {
    auto r = run_stub("triple", "qemu-tcg",
                      {"--max-restarts", "3", "--restart-window", "0", "--restart-backoff", "0"});
    EXPECT_EQ(r.status, 125) << r.err;
    EXPECT_EQ(count_of(r.out, "stub: reset"), 4) << r.out << r.err;
    EXPECT_NE(r.err.find("restart limit"), std::string::npos) << r.err;
}

TEST(RunnerBuiltin, SigtermStopsTheVm) {
    if (!phx_test::kvm_available()) GTEST_SKIP() << "no usable /dev/kvm";
    for (int signal : {SIGTERM, SIGINT}) {
        ScratchDir tmp;
        PhxCall call;
        call.args = {"run", "--hypervisor", "builtin", "--kernel", stub_kernel("hang"),
                     guest("tiny_static")};
        call.env["TMPDIR"] = tmp.path();
        call.signal_after_output = "stub: hanging";
        call.signal = signal;
        call.timeout_seconds = 30;
        auto r = run_phx(call);
        EXPECT_FALSE(r.timed_out) << "the VM kept running: " << r.out << r.err;
        EXPECT_EQ(r.status, 128 + signal) << r.out << r.err;
        EXPECT_NE(r.err.find("phx: stopped by SIG"), std::string::npos) << r.err;
        EXPECT_TRUE(tmp.empty()) << "phx left files in " << tmp.path();
    }
}

// SIGTERM/SIGINT to phx reach QEMU; phx still cleans up and exits 128+signal.
void expect_signal_forwarded(int signal, int expected_status) {
    ScratchDir tmp;
    PhxCall call;
    call.args = {"run", "--hypervisor", "qemu", "--accel", "tcg", "--kernel", stub_kernel("hang"),
                 guest("tiny_static")};
    call.env["TMPDIR"] = tmp.path();
    call.signal_after_output = "stub: hanging";
    call.signal = signal;
    call.timeout_seconds = 30;
    auto r = run_phx(call);
    EXPECT_FALSE(r.timed_out) << "QEMU kept running: " << r.out << r.err;
    EXPECT_EQ(r.status, expected_status) << r.out << r.err;
    EXPECT_NE(r.err.find("phx: stopped by"), std::string::npos) << r.err;
    EXPECT_TRUE(tmp.empty()) << "phx left files in " << tmp.path();
}

TEST(RunnerSignals, SigtermIsForwardedToQemu) { expect_signal_forwarded(SIGTERM, 143); }
TEST(RunnerSignals, SigintIsForwardedToQemu) { expect_signal_forwarded(SIGINT, 130); }

TEST(RunnerCleanup, TempDirIsRemovedAfterSuccessAndFailure) {
    ScratchDir tmp;
    for (const char* kernel : {"exit", "panic"}) {
        PhxCall call;
        call.args = {"run",      "--hypervisor",      "qemu", "--accel", "tcg",
                     "--kernel", stub_kernel(kernel), guest("tiny_static")};
        call.env["TMPDIR"] = tmp.path();
        auto r = run_phx(call);
        EXPECT_TRUE(r.status == 42 || r.status == 125) << r.err;
        EXPECT_TRUE(tmp.empty()) << kernel << ": phx left files in " << tmp.path();
    }
}

TEST(RunnerErrors, QemuMissingIsAVmFailure) {
    PhxCall call;
    call.args = {"run", "--hypervisor", "qemu", "--kernel", stub_kernel("exit"),
                 guest("tiny_static")};
    call.env["PATH"] = "/nonexistent";
    auto r = run_phx(call);
    EXPECT_EQ(r.status, 125) << r.err;
    EXPECT_NE(r.err.find("cannot start qemu-system-x86_64"), std::string::npos) << r.err;
}

TEST(RunnerErrors, KernelQemuCannotBootIsAVmFailure) {
    // A static program is an ELF without a PVH note: QEMU refuses it and exits with 1.
    auto r =
        run_phx({"run", "--hypervisor", "qemu", "--accel", "tcg", "--kernel", guest("tiny_static"),
                 guest("tiny_static")});
    EXPECT_EQ(r.status, 125) << r.out << r.err;
    EXPECT_NE(r.err.find("phx: the VM stopped without reporting a status"), std::string::npos)
        << r.err;
}

TEST(RunnerErrors, KernelFromEnvironment) {
    PhxCall call;
    call.args = {"run", "--hypervisor", "qemu", "--accel", "tcg", guest("tiny_static")};
    call.env["PHX_KERNEL"] = stub_kernel("exit");
    EXPECT_EQ(run_phx(call).status, 42);
}

}  // namespace
