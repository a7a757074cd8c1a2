// Running the kernel under QEMU (microvm, or q35 to test virtio-pci): build the command line,
// spawn QEMU on phx's terminal, wait, read the status channel.
#include "phx/runners/qemu.h"

#include <chrono>
#include <thread>

#include <cerrno>
#include <cstdio>
#include <system_error>

#include "phx/error.h"
#include "phx/file_io.h"
#include "phx/image/disk_image.h"
#include "phx/image/image_builder.h"
#include "phx/file_io.h"
#include "phx/log.h"
#include "phx/runners/child_process.h"
#include "phx/runners/status_channel.h"
#include "vmm/machine.h"
#include "vmm/crash_log.h"

namespace phx {

namespace {

constexpr const char* kQemu = "qemu-system-x86_64";

// For -v: the command line as a shell would need it typed.
std::string shell_quote(const std::string& arg) {
    bool plain = !arg.empty() && arg.find_first_not_of(
                                     "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO"
                                     "PQRSTUVWXYZ0123456789,._+:@%/=-") == std::string::npos;
    if (plain) return arg;
    std::string quoted = "'";
    for (char c : arg) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

// The status file is created by QEMU; when QEMU failed before that, there is nothing to read.
std::string read_status(const std::string& path) {
    try {
        auto bytes = read_file(path);
        return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
    } catch (const std::system_error&) {
        return {};
    }
}

ChildExit spawn_qemu(const std::vector<std::string>& args) {
    try {
        return spawn_and_wait(args);
    } catch (const std::system_error& e) {
        std::string hint = e.code().value() == ENOENT ? " (not installed? Debian: apt-get "
                                                        "install qemu-system-x86)"
                                                      : "";
        throw PhxError(kExitVmFailed,
                       std::string("cannot start ") + kQemu + ": " + e.code().message() + hint);
    }
}

bool keeps_crash_reports(const RunSpec& spec) {
    return !spec.log_dir.empty() && spec.keep_crash_reports > 0;
}

std::string console_log_path(const RunSpec& spec) { return spec.work_dir + "/console.log"; }

// One QEMU's console copy through the crash log (vmm/crash_log.h), as the builtin VMM feeds
// its console as it goes.
void save_crash_reports(const RunSpec& spec, vmm::CrashLog& crash_log, uint32_t boot) {
    if (!keeps_crash_reports(spec)) return;
    crash_log.set_boot(boot);
    std::FILE* file = std::fopen(console_log_path(spec).c_str(), "rb");
    if (!file) return;
    char chunk[16384];
    while (size_t n = std::fread(chunk, 1, sizeof(chunk), file)) crash_log.feed({chunk, n});
    std::fclose(file);
}

}  // namespace

std::vector<std::string> QemuRunner::command_line(const RunSpec& spec, Accel accel,
                                                  const std::string& status_path) {
    // docs/boot-protocol.md, "QEMU command line", in its order; one flag and value per line.
    bool q35 = spec.machine != Machine::Microvm;
    // clang-format off
    std::vector<std::string> args = {kQemu, "-M"};
    if (q35)  // qboot: direct PVH boot in a tenth of a second (SeaBIOS takes seconds)
        args.insert(args.end(), {"q35", "-bios", "qboot.rom"});
    else
        args.insert(args.end(), {"microvm,x-option-roms=off,rtc=on"});
    args.insert(args.end(), {
        "-nodefaults", "-no-user-config",
        "-display", "none",
        "-no-reboot",
        "-m", std::to_string(spec.memory_mib) + "M",
    });
    if (accel == Accel::Kvm) {
        // -cpu host alone aborts on MSR 0x10a (IA32_ARCH_CAPABILITIES) on nested-KVM hosts.
        args.insert(args.end(), {"-accel", "kvm", "-cpu", "host,-arch-capabilities"});
    } else {
        args.insert(args.end(), {"-accel", "tcg", "-cpu", "max"});
    }
    args.insert(args.end(), {"-kernel", spec.kernel_path});
    if (!spec.manifest_path.empty()) args.insert(args.end(), {"-initrd", spec.manifest_path});
    // virtio-pci devices on q35's root bus are transitional (modern and legacy interfaces);
    // behind a PCIe root port, modern-only.
    auto pci_device = [&](const std::string& device, int port) {
        std::string bus = "rp" + std::to_string(port);
        if (spec.machine == Machine::Q35Pcie)
            args.insert(args.end(), {"-device", "pcie-root-port,id=" + bus + ",chassis=" +
                                                    std::to_string(port),
                                     "-device", device + ",bus=" + bus});
        else
            args.insert(args.end(), {"-device", device});
    };
    if (!spec.disk_path.empty()) {
        args.insert(args.end(), {"-drive", "id=disk,file=" + spec.disk_path +
                                               ",format=raw,if=none,readonly=on"});
        if (q35)
            pci_device("virtio-blk-pci,drive=disk", 1);
        else
            args.insert(args.end(), {"-device", "virtio-blk-device,drive=disk"});
    }
    // The NIC: QEMU's user-mode network is libslirp too, with the same addresses (its
    // defaults, spelled out) as the builtin VMM's.
    if (spec.net.mode != vmm::net::NetMode::None) {
        std::string netdev = "tap,id=n0,ifname=" + spec.net.tap_name + ",script=no,downscript=no";
        if (spec.net.mode == vmm::net::NetMode::Slirp) {
            netdev = "user,id=n0,net=10.0.2.0/24,host=10.0.2.2,dns=10.0.2.3,dhcpstart=10.0.2.15,"
                     "ipv6=off";
            for (const auto& forward : spec.net.forwards)
                netdev += std::string(",hostfwd=") + (forward.udp ? "udp" : "tcp") + "::" +
                          std::to_string(forward.host_port) + "-:" +
                          std::to_string(forward.guest_port);
        }
        args.insert(args.end(), {"-netdev", netdev});
        std::string mac = ",mac=" + format_mac(spec.mac);
        if (q35)
            pci_device("virtio-net-pci,netdev=n0" + mac, 3);
        else
            args.insert(args.end(), {"-device", "virtio-net-device,netdev=n0" + mac});
    }
    // With crash reports kept, QEMU also copies the console to a file phx scans afterwards
    // (the serial output goes straight to the terminal, never through phx).
    std::string console = "stdio,id=console,signal=on";
    if (keeps_crash_reports(spec)) console += ",logfile=" + console_log_path(spec) + ",logappend=off";
    args.insert(args.end(), {
        "-chardev", console,
        "-serial", "chardev:console",
        "-debugcon", "file:" + status_path,
        "-global", "isa-debugcon.iobase=0x402",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
    });
    if (q35) {
        if (spec.machine == Machine::Q35Legacy)
            args.insert(args.end(), {"-global", "virtio-pci.disable-modern=on"});
        pci_device("virtio-rng-pci", 2);
    } else {
        args.insert(args.end(), {
            // virtio-rng for the kernel's random pool. microvm names its virtio-mmio devices
            // on the kernel command line only with ACPI off, and offers the modern (version
            // 2) interface, the only one the kernel speaks there, only when not forced to
            // legacy.
            "-machine", "acpi=off",
            "-global", "virtio-mmio.force-legacy=false",
            "-device", "virtio-rng-device",
        });
    }
    // clang-format on
    if (std::string cmdline = kernel_command_line(spec, accel);
        !cmdline.empty())
        args.insert(args.end(), {"-append", cmdline});
    return args;
}

int QemuRunner::run(const RunSpec& given) {
    RunSpec spec = given;
    if (spec.kernel_path.empty()) {
        // QEMU boots a kernel file: the image's own, copied out.
        spec.kernel_path = spec.work_dir + "/kernel.elf";
        write_file(spec.kernel_path, read_image_file(spec.disk_path, kImageKernelPath));
    }
    Accel accel = resolve_accel(spec.accel);
    std::string status_path = spec.work_dir + "/status";
    // Every boot's command line ends with its number and a fresh seed (vmm/machine.h).
    auto boot_args = [&](uint32_t boot) {
        RunSpec boot_spec = spec;
        for (std::string& word : vmm::boot_command_words(boot)) boot_spec.kernel_args.push_back(std::move(word));
        return command_line(boot_spec, accel, status_path);
    };
    if (verbose()) {
        std::string line;
        for (const auto& arg : boot_args(1)) line += (line.empty() ? "" : " ") + shell_quote(arg);
        log_verbose(line);
    }
    // A guest reset ends QEMU (-no-reboot: a reset under microvm+PVH cannot be resumed), so
    // a reset means a fresh QEMU, as the restart policy allows.
    vmm::RestartTracker tracker(spec.restart);
    vmm::CrashLog crash_log(spec.log_dir, spec.keep_crash_reports,
                            [](const std::string& line) { log_info(line); });
    for (uint32_t boot = 1;; ++boot) {
        auto started = std::chrono::steady_clock::now();
        ChildExit exit = spawn_qemu(boot_args(boot));
        save_crash_reports(spec, crash_log, boot);
        std::string status = read_status(status_path);
        if (!guest_reset(status, exit)) return vm_exit_status(status, exit);
        auto ms = [](auto since) {
            return uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(since).count());
        };
        auto ended = std::chrono::steady_clock::now();
        auto decision = tracker.on_reset(ms(started.time_since_epoch()), ms(ended.time_since_epoch()));
        if (!decision.restart) {
            if (decision.limit_hit)
                throw PhxError(kExitVmFailed, "the guest kept resetting: " +
                                                  std::to_string(boot - 1) +
                                                  " restarts, the restart limit");
            return vm_exit_status(status, exit);  // "stopped without reporting a status"
        }
        log_info("guest reset (QEMU exited without a status)");
        log_info("reboot " + std::to_string(boot) + ": a new QEMU" +
                 (decision.delay_ms ? " in " + std::to_string(decision.delay_ms) + " ms" : ""));
        std::this_thread::sleep_for(std::chrono::milliseconds(decision.delay_ms));
    }
}

}  // namespace phx
