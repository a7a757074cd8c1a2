// One boot of one VM: a fresh Vm, the kernel and boot data copied in, the devices wired to
// the bus, and the vCPU loop that runs until a device (or the CPU) asks the VM to stop.
#pragma once

#include <atomic>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "vmm/boot/kernel_image.h"
#include "vmm/devices/power_ports.h"
#include "vmm/devices/serial.h"
#include "vmm/error.h"
#include "vmm/kvm/exit_handler.h"
#include "vmm/kvm/kvm.h"
#include "vmm/kvm/vm.h"
#include "vmm/net/backend.h"

namespace vmm {

namespace virtio {
class VirtioNet;
}

// What stays the same from one boot to the next.
struct BootInputs {
    const Kvm* kvm = nullptr;
    const KernelImage* kernel = nullptr;
    std::span<const std::byte> manifest;
    std::string cmdline;  // extra words; the machine adds its devices' words
    VmShape shape;
    Serial::Sink console;
    SerialInput* input = nullptr;
    int disk_fd = -1;  // the disk image (virtio-blk, read-only); -1 for none
    uint64_t disk_bytes = 0;
    // The run's network (virtio-net when set): attached to this VM's NIC only while it runs.
    net::NetBackend* net = nullptr;
    net::MacAddress mac{};
    // Which boot of the run this VM is (1 for the first): the kernel reads phx.boot=N.
    uint32_t boot_number = 1;
};

// The words every boot's kernel command line ends with: phx.boot=N (which boot of the run)
// and phx.seed=<hex> (fresh bytes from the host for the kernel's CSPRNG).
std::vector<std::string> boot_command_words(uint32_t boot_number);

class Machine {
public:
    static Expected<std::unique_ptr<Machine>> create(const BootInputs& inputs);
    ~Machine();

    // Runs the vCPU until the VM stops. `interrupted` is polled whenever KVM_RUN returns
    // EINTR: when set, the run ends with StopKind::None.
    Expected<StopRequest> run(const std::atomic<bool>& interrupted);
    Vm& vm() { return *m_vm; }
    // The kernel's last status-channel line.
    const std::string& last_status_line() const { return m_status.last_line(); }
    // Sees every status line as the kernel writes it (on the vCPU thread, during run()).
    void set_status_listener(StatusPort::Listener listener) { m_status.set_listener(std::move(listener)); }

private:
    Machine() = default;

    std::unique_ptr<Vm> m_vm;
    StopRequest m_stop;
    DeviceBus m_bus;
    std::unique_ptr<IoApic> m_ioapic;
    std::unique_ptr<IrqLine> m_serial_irq;
    std::unique_ptr<Serial> m_serial;
    StatusPort m_status;
    std::unique_ptr<ExitPort> m_exit;
    std::unique_ptr<I8042> m_i8042;
    std::vector<std::unique_ptr<IrqLine>> m_irqs;
    std::vector<std::unique_ptr<MmioDevice>> m_mmio_devices;
    net::NetBackend* m_net_backend = nullptr;
    virtio::VirtioNet* m_net = nullptr;  // owned by its transport in m_mmio_devices
};

// The kvm_run of the machine currently running, for the signal handler's immediate exit.
void set_active_run(kvm_run* run);
// Clears it only if it is still `run` (a VM torn down in the background is not the active one).
void clear_active_run(kvm_run* run);
// Async-signal-safe: makes the running vCPU (if any) leave KVM_RUN.
void kick_active_run();

}  // namespace vmm
