#include "vmm/machine.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdlib>

#include "lib/base/cmdline.h"
#include "vmm/boot/pvh_boot.h"
#include "vmm/profiler.h"
#include "lib/virtio/mmio_regs.h"
#include "vmm/virtio/blk.h"
#include "vmm/virtio/mmio_transport.h"
#include "vmm/virtio/net.h"
#include "vmm/virtio/rng.h"

#include <cstdio>
#include <string>

#include <sys/random.h>

namespace vmm {

namespace {

std::atomic<kvm_run*> g_active_run{nullptr};

// Physical KASLR: a relocatable kernel goes to a random place on every boot, unless the
// command line says phx.nokaslr. Profiling (PHX_PROFILE) asks the kernel for phx.nokaslr too
// (see Machine::create), so the profile's addresses match the kernel ELF's.
uint64_t kernel_load_offset(const GuestMemory& memory, const KernelImage& kernel,
                            const BootPlan& plan) {
    if (lib::Cmdline(plan.cmdline).find("phx.nokaslr")) return 0;
    uint64_t modules_bytes = 0;
    for (auto module : plan.modules) modules_bytes += (module.size() + 4095) / 4096 * 4096;
    uint64_t random = 0;
    if (getrandom(&random, sizeof(random), 0) != sizeof(random)) return 0;
    return place_kernel(memory, kernel, modules_bytes, random).offset;
}

}  // namespace

void set_active_run(kvm_run* run) { g_active_run.store(run); }

void clear_active_run(kvm_run* run) { g_active_run.compare_exchange_strong(run, nullptr); }

void kick_active_run() {
    if (kvm_run* run = g_active_run.load()) __atomic_store_n(&run->immediate_exit, 1, __ATOMIC_SEQ_CST);
}

Expected<std::unique_ptr<Machine>> Machine::create(const BootInputs& inputs) {
    std::unique_ptr<Machine> machine(new Machine());
    machine->m_vm = TRY(Vm::create(*inputs.kvm, inputs.shape));
    Vm& vm = *machine->m_vm;

    machine->m_ioapic = std::make_unique<IoApic>(vm);
    machine->m_serial_irq = machine->m_ioapic->line(Serial::kIrq);
    machine->m_serial =
        std::make_unique<Serial>(inputs.console, inputs.input, machine->m_serial_irq.get());
    machine->m_exit = std::make_unique<ExitPort>(machine->m_stop);
    machine->m_i8042 = std::make_unique<I8042>(machine->m_stop);
    DeviceBus& bus = machine->m_bus;
    bus.add_mmio(IoApic::kBase, IoApic::kSize, *machine->m_ioapic);
    bus.set_eoi_listener(*machine->m_ioapic);
    bus.add_pio(Serial::kCom1Base, Serial::kPortCount, *machine->m_serial);
    bus.add_pio(StatusPort::kPort, 1, machine->m_status);
    bus.add_pio(ExitPort::kPort, 4, *machine->m_exit);
    bus.add_pio(I8042::kDataPort, I8042::kPortCount, *machine->m_i8042);

    // virtio-mmio devices, announced on the command line the way Linux reads them.
    std::string devices;
    auto add_virtio = [&](std::unique_ptr<virtio::VirtioDevice> device) {
        size_t index = machine->m_mmio_devices.size();
        uint64_t base = kVirtioMmioBase + index * lib::virtio::mmio::kWindowSize;
        uint32_t irq = kVirtioFirstIrq + uint32_t(index);
        machine->m_irqs.push_back(machine->m_ioapic->line(irq));
        machine->m_mmio_devices.push_back(std::make_unique<virtio::VirtioMmioTransport>(
            vm.memory(), std::move(device), *machine->m_irqs.back()));
        bus.add_mmio(base, lib::virtio::mmio::kWindowSize, *machine->m_mmio_devices.back());
        char word[80];
        std::snprintf(word, sizeof(word), " virtio_mmio.device=4K@%#llx:%u",
                      static_cast<unsigned long long>(base), irq);
        devices += word;
    };
    add_virtio(std::make_unique<virtio::VirtioRng>(vm.memory()));
    if (inputs.disk_fd >= 0)
        add_virtio(std::make_unique<virtio::VirtioBlk>(vm.memory(), inputs.disk_fd, inputs.disk_bytes));
    if (inputs.net) {
        auto nic = std::make_unique<virtio::VirtioNet>(vm.memory(), inputs.mac, inputs.net);
        machine->m_net = nic.get();
        machine->m_net_backend = inputs.net;
        add_virtio(std::move(nic));
    }

    BootPlan plan;
    // Guest RAM is a fresh anonymous mapping and nothing but the boot data (which the kernel
    // reserves) is written to it: the kernel may skip zeroing frames it never used.
    plan.cmdline = inputs.cmdline + " phx.ram=zeroed" + devices;
    for (const std::string& word : boot_command_words(inputs.boot_number)) plan.cmdline += " " + word;
    if (const char* profile = std::getenv("PHX_PROFILE"); profile && *profile)
        plan.cmdline += " phx.nokaslr";
    if (!plan.cmdline.empty() && plan.cmdline[0] == ' ') plan.cmdline.erase(0, 1);
    if (!inputs.manifest.empty()) plan.modules.push_back(inputs.manifest);
    plan.kernel_offset = kernel_load_offset(vm.memory(), *inputs.kernel, plan);
    uint64_t start_info = TRY(write_pvh_boot(vm.memory(), *inputs.kernel, plan));
    TRY(vm.set_pvh_entry(uint32_t(inputs.kernel->entry() + plan.kernel_offset),
                         uint32_t(start_info)));
    return machine;
}

// May run on another thread than run() did (the supervisor retires VMs in the background).
Machine::~Machine() {
    if (m_vm) clear_active_run(&m_vm->run_record());
}

Expected<StopRequest> Machine::run(const std::atomic<bool>& interrupted) {
    kvm_run& record = m_vm->run_record();
    // While this VM runs it gets the stop signals' kicks, the console input and the network's
    // frames; whatever way the loop ends, it gives them back and flushes its output. Frames on
    // their way to it then are dropped with it.
    struct Activation {
        Machine& machine;
        explicit Activation(Machine& m, kvm_run& run) : machine(m) {
            set_active_run(&run);
            machine.m_serial->connect_input();
            if (machine.m_net_backend) machine.m_net_backend->attach(machine.m_net);
        }
        ~Activation() {
            set_active_run(nullptr);
            if (machine.m_net_backend) machine.m_net_backend->attach(nullptr);
            machine.m_serial->disconnect_input();
            machine.m_serial->flush();
        }
    } activation(*this, record);
    std::string error;
    GuestProfiler profiler = GuestProfiler::from_environment();
    profiler.start();
    while (m_stop.kind == StopKind::None) {
        if (interrupted.load()) break;
        int result = m_vm->run();
        if (result == -EINTR || result == -EAGAIN) {
            if (profiler.active()) profiler.sample(*m_vm);
            continue;
        }
        if (result < 0) {
            errno = -result;
            return system_error(ErrorKind::VmFailed, "KVM_RUN");
        }
        if (handle_exit(record, m_vm->run_size(), m_bus, m_stop, error) == ExitResult::Failed)
            return vm_error(error);
    }
    return m_stop;
}

// phx.boot=N, and 32 bytes from the host's getrandom as phx.seed=<64 hex digits> for the
// kernel's CSPRNG, fresh for every VM. The kernel mixes the seed with RDSEED/RDRAND and
// virtio-rng, then blanks it in its copy of the command line.
std::vector<std::string> boot_command_words(uint32_t boot_number) {
    std::vector<std::string> words = {"phx.boot=" + std::to_string(boot_number)};
    unsigned char seed[32] = {};
    size_t got = 0;
    while (got < sizeof(seed)) {
        ssize_t n = getrandom(seed + got, sizeof(seed) - got, 0);
        if (n <= 0) return words;  // no host randomness: the kernel has the CPU's and the device's
        got += size_t(n);
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string word = "phx.seed=";
    for (unsigned char byte : seed) {
        word += kHex[byte >> 4];
        word += kHex[byte & 15];
    }
    words.push_back(word);
    return words;
}

}  // namespace vmm
