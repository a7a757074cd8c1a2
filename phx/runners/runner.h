// What every runner (QEMU today, Phoenix's own KVM VMM next) is given, and what it returns:
// the program's exit status, or a PhxError when the VM itself failed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "phx/runners/accel.h"
#include "vmm/net/backend.h"
#include "vmm/net/port_forward.h"
#include "vmm/restart_policy.h"

namespace phx {

// The machine QEMU emulates (--machine; the builtin VMM has only its own). The q35 ones exist
// to test the kernel's virtio-pci transport: transitional devices on the root bus (driven
// through their modern interface), modern-only devices behind PCIe root ports, legacy-only
// devices on the root bus.
enum class Machine { Microvm, Q35, Q35Pcie, Q35Legacy };

struct RunSpec {
    std::string kernel_path;    // PVH kernel ELF (docs/boot-protocol.md); "" with a disk: its /boot/kernel
    std::string manifest_path;  // module 0; "" with a disk (the kernel reads its manifest)
    std::string disk_path;      // a Phoenix disk image, attached read-only as virtio-blk
    std::string work_dir;       // private scratch directory for this run, removed afterwards
    uint64_t memory_mib = 1024;
    Accel accel = Accel::Auto;
    std::vector<std::string> kernel_args;  // extra kernel command-line words (--kernel-arg)
    vmm::RestartPolicy restart;            // what a guest reset does
    bool host_stats = false;               // reboot lines show phx's fds/RSS/threads
    bool announce_first_boot = false;      // the first boot gets its line too (a rebooting image)
    Machine machine = Machine::Microvm;
    // The NIC (virtio-net) and its network; mode None: no NIC. `mac` is the NIC's address,
    // the same on every boot of the run.
    vmm::net::NetConfig net;
    vmm::net::MacAddress mac{};
    // Where crash reports seen on the console are kept (docs/crash-reports.md), the newest
    // keep_crash_reports of them; "" keeps none.
    std::string log_dir;
    uint32_t keep_crash_reports = 10;
};

// "52:54:00:ab:cd:ef"
std::string format_mac(const vmm::net::MacAddress& mac);

// The kernel command line for spec: its kernel_args joined with spaces, plus what the kernel
// must know about the accelerator the VM runs on (`accel`: Kvm or Tcg).
std::string kernel_command_line(const RunSpec& spec, Accel accel);

class Runner {
public:
    virtual ~Runner() = default;
    // Boots the VM, waits for it, and returns the program's exit status (0..255).
    virtual int run(const RunSpec& spec) = 0;
};

// The runners --hypervisor accepts, and the one it names (nullptr for an unknown name).
std::vector<std::string> runner_names();
std::unique_ptr<Runner> make_runner(const std::string& name);
// The runner for --hypervisor NAME: "auto" is builtin when the accelerator is KVM (asked for,
// or auto with a working /dev/kvm) and qemu otherwise.
std::string choose_runner(const std::string& name, Accel accel);

}  // namespace phx
