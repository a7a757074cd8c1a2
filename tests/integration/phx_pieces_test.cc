// Unit tests for phx's pure pieces (no process, no VM): -m parsing, -e checks, the status
// channel's interpretation and the QEMU command line.
#include <gtest/gtest.h>

#include <filesystem>
#include <signal.h>

#include "phx/config/env_entry.h"
#include "phx/config/memory_size.h"
#include "phx/error.h"
#include "phx/runners/qemu.h"
#include "phx/runners/status_channel.h"

namespace {

using phx::ChildExit;
using phx::PhxError;

int error_status(auto&& fn) {
    try {
        fn();
    } catch (const PhxError& e) {
        return e.status();
    }
    return -1;
}

TEST(MemorySize, AcceptsOpsAndQemuSpellings) {
    EXPECT_EQ(phx::parse_memory_mib("512M"), 512u);
    EXPECT_EQ(phx::parse_memory_mib("512m"), 512u);
    EXPECT_EQ(phx::parse_memory_mib("512MB"), 512u);
    EXPECT_EQ(phx::parse_memory_mib("512MiB"), 512u);
    EXPECT_EQ(phx::parse_memory_mib("1G"), 1024u);
    EXPECT_EQ(phx::parse_memory_mib("1.5G"), 1536u);
    EXPECT_EQ(phx::parse_memory_mib("2048"), 2048u);
    EXPECT_EQ(phx::parse_memory_mib("65536K"), 64u);
    EXPECT_EQ(phx::parse_memory_mib("64"), 64u);
    EXPECT_EQ(phx::parse_memory_mib("1T"), 1024u * 1024u);
}

TEST(MemorySize, RejectsBadSizesAsUsageErrors) {
    for (const char* text : {"", "M", "lots", "1.", ".5G", "1.3G", "63M", "63", "1025K", "2T",
                             "1048577", "99999999G", "1GG", "1Gb", "-1G", "0x100", "1 G", "1e3"})
        EXPECT_EQ(error_status([&] { phx::parse_memory_mib(text); }), phx::kExitUsage) << text;
}

TEST(EnvEntry, KeyValue) {
    EXPECT_EQ(error_status([] { phx::check_env_entry("A=1"); }), -1);
    EXPECT_EQ(error_status([] { phx::check_env_entry("A="); }), -1);
    EXPECT_EQ(error_status([] { phx::check_env_entry("A=b=c"); }), -1);
    EXPECT_EQ(error_status([] { phx::check_env_entry("A"); }), phx::kExitUsage);
    EXPECT_EQ(error_status([] { phx::check_env_entry("=1"); }), phx::kExitUsage);
    EXPECT_EQ(error_status([] { phx::check_env_entry(std::string_view("A=\0", 3)); }),
              phx::kExitUsage);
}

ChildExit exited(int code) { return {code, 0, 0}; }

TEST(StatusChannel, LastStatusLineWins) {
    EXPECT_EQ(phx::vm_exit_status("exit 0\n", exited(1)), 0);
    EXPECT_EQ(phx::vm_exit_status("exit 255\n", exited(255)), 255);
    EXPECT_EQ(phx::vm_exit_status("noise\nexit 7\n", exited(15)), 7);
    EXPECT_EQ(phx::vm_exit_status("exit 7\r\n", exited(0)), 7);
    EXPECT_EQ(error_status([] { phx::vm_exit_status("panic\n", exited(1)); }), phx::kExitVmFailed);
    EXPECT_EQ(error_status([] { phx::vm_exit_status("exit 3\npanic\n", exited(1)); }),
              phx::kExitVmFailed);
}

TEST(StatusChannel, MalformedLinesAreIgnored) {
    // Out of range, trailing junk, or cut short by the VM's end: fall back to the exit code.
    for (const char* text : {"exit 256\n", "exit -1\n", "exit 1x\n", "exit \n", "exit 9"})
        EXPECT_EQ(phx::vm_exit_status(text, exited(11)), 5) << text;
}

TEST(StatusChannel, ExitCodeFallback) {
    EXPECT_EQ(phx::vm_exit_status("", exited(11)), 5);     // word 5
    EXPECT_EQ(phx::vm_exit_status("", exited(3)), 1);      // word 1
    EXPECT_EQ(phx::vm_exit_status("", exited(255)), 127);  // word 127 (low 7 bits survive)
    // 1 is also QEMU's own failure status; 0 is a clean shutdown with nothing reported.
    EXPECT_EQ(error_status([] { phx::vm_exit_status("", exited(1)); }), phx::kExitVmFailed);
    EXPECT_EQ(error_status([] { phx::vm_exit_status("", exited(0)); }), phx::kExitVmFailed);
    EXPECT_EQ(error_status([] { phx::vm_exit_status("", exited(2)); }), phx::kExitVmFailed);
}

TEST(StatusChannel, Signals) {
    EXPECT_EQ(error_status([] { phx::vm_exit_status("", {-1, SIGKILL, 0}); }), phx::kExitVmFailed);
    EXPECT_EQ(error_status([] { phx::vm_exit_status("", {0, 0, SIGTERM}); }), 128 + SIGTERM);
    // A status that made it out before the signal still counts.
    EXPECT_EQ(phx::vm_exit_status("exit 4\n", {0, 0, SIGINT}), 4);
}

TEST(QemuCommandLine, MatchesTheBootProtocol) {
    phx::RunSpec spec;
    spec.kernel_path = "/k.elf";
    spec.manifest_path = "/w/manifest.bin";
    spec.memory_mib = 512;
    auto line = [](const std::vector<std::string>& args) {
        std::string joined;
        for (const auto& a : args) joined += (joined.empty() ? "" : " ") + a;
        return joined;
    };
    const std::string tail =
        " -kernel /k.elf -initrd /w/manifest.bin -chardev stdio,id=console,signal=on"
        " -serial chardev:console -debugcon file:/w/status -global isa-debugcon.iobase=0x402"
        " -device isa-debug-exit,iobase=0xf4,iosize=4"
        " -machine acpi=off -global virtio-mmio.force-legacy=false -device virtio-rng-device";
    const std::string head =
        "qemu-system-x86_64 -M microvm,x-option-roms=off,rtc=on -nodefaults -no-user-config"
        " -display none -no-reboot -m 512M";
    // The -append words depend on the host (kvm_pvm, the TSC rate): checked below.
    auto without_append = [](std::string joined) {
        return joined.substr(0, joined.find(" -append "));
    };
    EXPECT_EQ(without_append(line(phx::QemuRunner::command_line(spec, phx::Accel::Kvm, "/w/status"))),
              head + " -accel kvm -cpu host,-arch-capabilities" + tail);
    EXPECT_EQ(without_append(line(phx::QemuRunner::command_line(spec, phx::Accel::Tcg, "/w/status"))),
              head + " -accel tcg -cpu max" + tail);
}

// What the kernel must know about its accelerator: under TCG the host's TSC rate (the guest
// TSC ticks at it), on kvm_pvm that XSAVE is off limits; --kernel-arg words come first.
TEST(KernelCommandLine, CarriesWhatTheAcceleratorNeeds) {
    phx::RunSpec spec;
    spec.kernel_args = {"phx.selftest=x"};
    std::string tcg = phx::kernel_command_line(spec, phx::Accel::Tcg);
    ASSERT_EQ(tcg.rfind("phx.selftest=x phx.tsc_khz=", 0), 0u) << tcg;
    uint64_t khz = std::stoull(tcg.substr(tcg.find('=', 15) + 1));
    EXPECT_GT(khz, 100'000u);       // above 100 MHz
    EXPECT_LT(khz, 10'000'000u);    // below 10 GHz
    EXPECT_EQ(tcg.find("phx.fpu"), std::string::npos);
    std::string kvm = phx::kernel_command_line(spec, phx::Accel::Kvm);
    bool pvm = std::filesystem::exists("/sys/module/kvm_pvm");
    EXPECT_EQ(kvm, pvm ? "phx.selftest=x phx.fpu=fxsave" : "phx.selftest=x");
}

// q35 (--machine): qboot, PCI devices, no microvm-only options.
TEST(QemuCommandLine, Q35UsesQbootAndVirtioPci) {
    phx::RunSpec spec;
    spec.kernel_path = "/k.elf";
    spec.disk_path = "/d.img";
    spec.memory_mib = 512;
    spec.machine = phx::Machine::Q35;
    auto line = [](const std::vector<std::string>& args) {
        std::string joined;
        for (const auto& a : args) joined += (joined.empty() ? "" : " ") + a;
        return joined;
    };
    std::string q35 = line(phx::QemuRunner::command_line(spec, phx::Accel::Tcg, "/w/status"));
    EXPECT_EQ(q35.substr(0, q35.find(" -append ")),  // host-dependent words: see KernelCommandLine
              "qemu-system-x86_64 -M q35 -bios qboot.rom -nodefaults -no-user-config"
              " -display none -no-reboot -m 512M -accel tcg -cpu max -kernel /k.elf"
              " -drive id=disk,file=/d.img,format=raw,if=none,readonly=on"
              " -device virtio-blk-pci,drive=disk -chardev stdio,id=console,signal=on"
              " -serial chardev:console -debugcon file:/w/status -global isa-debugcon.iobase=0x402"
              " -device isa-debug-exit,iobase=0xf4,iosize=4 -device virtio-rng-pci");
    spec.machine = phx::Machine::Q35Legacy;
    EXPECT_NE(line(phx::QemuRunner::command_line(spec, phx::Accel::Tcg, "/w/status"))
                  .find(" -global virtio-pci.disable-modern=on -device virtio-rng-pci"),
              std::string::npos);
    spec.machine = phx::Machine::Q35Pcie;
    std::string pcie = line(phx::QemuRunner::command_line(spec, phx::Accel::Tcg, "/w/status"));
    EXPECT_NE(pcie.find(" -device pcie-root-port,id=rp1,chassis=1"
                        " -device virtio-blk-pci,drive=disk,bus=rp1"),
              std::string::npos) << pcie;
    EXPECT_NE(pcie.find(" -device pcie-root-port,id=rp2,chassis=2"
                        " -device virtio-rng-pci,bus=rp2"),
              std::string::npos) << pcie;
}

}  // namespace
