#include "vmm/kvm/vm.h"

#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cerrno>

#include "vmm/boot/pvh_boot.h"
#include "vmm/kvm/cpuid.h"
#include "vmm/kvm/kvm_abi.h"

namespace vmm {

namespace {

// Addresses Intel's VMX needs for real-mode emulation (harmless elsewhere), in the MMIO hole.
constexpr uint64_t kIdentityMapAddress = 0xfffbc000;
constexpr uint64_t kTssAddress = 0xfffbd000;

constexpr uint32_t kMsrMiscEnable = 0x1a0;
constexpr uint64_t kMiscEnableFastStrings = 1;
constexpr uint32_t kMsrMtrrDefType = 0x2ff;
constexpr uint64_t kMtrrEnabledWriteBack = 0x806;

kvm_segment flat_segment(uint16_t selector, uint8_t type) {
    kvm_segment s{};
    s.base = 0;
    s.limit = 0xffffffff;
    s.selector = selector;
    s.type = type;
    s.present = 1;
    s.db = 1;
    s.s = 1;
    s.g = 1;
    return s;
}

}  // namespace

Expected<std::unique_ptr<Vm>> Vm::create(const Kvm& kvm, const VmShape& shape) {
    std::unique_ptr<Vm> vm(new Vm());
    // KVM_CREATE_VM can fail transiently (EINTR) while the host is busy.
    int fd;
    do fd = ioctl(kvm.fd(), KVM_CREATE_VM, 0);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) return system_error(ErrorKind::VmFailed, "KVM_CREATE_VM");
    vm->m_vm.reset(fd);
    if (ioctl(vm->m_vm.get(), KVM_SET_IDENTITY_MAP_ADDR, &kIdentityMapAddress) < 0)
        return system_error(ErrorKind::VmFailed, "KVM_SET_IDENTITY_MAP_ADDR");
    if (ioctl(vm->m_vm.get(), KVM_SET_TSS_ADDR, kTssAddress) < 0)
        return system_error(ErrorKind::VmFailed, "KVM_SET_TSS_ADDR");
    TRY(vm->map_memory(shape));
    // The split irqchip: KVM's full one (KVM_CREATE_IRQCHIP) costs 5 ms at creation or
    // 12-20 ms at teardown here (SRCU grace periods around its PIC and IOAPIC), against
    // 0.3-0.5 ms for this. Must come before the vCPU.
    kvm_enable_cap split{};
    split.cap = KVM_CAP_SPLIT_IRQCHIP;
    split.args[0] = IoApic::kPins;
    if (ioctl(vm->m_vm.get(), KVM_ENABLE_CAP, &split) < 0)
        return system_error(ErrorKind::VmFailed, "KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP)");
    TRY(vm->create_vcpu(kvm));
    return vm;
}

Vm::~Vm() {
    if (m_run) munmap(m_run, m_run_size);
    m_vcpu.reset();
    m_vm.reset();
    for (const Mapping& mapping : m_mappings) munmap(mapping.host, mapping.size);
}

ExpectedVoid Vm::map_memory(const VmShape& shape) {
    std::vector<MemoryRegion> regions;
    uint32_t slot = 0;
    for (const RamRange& range : ram_layout(shape.memory_bytes)) {
        void* host = mmap(nullptr, range.size, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (host == MAP_FAILED)
            return system_error(ErrorKind::VmFailed,
                                "cannot map " + std::to_string(range.size >> 20) + " MiB of guest RAM");
        m_mappings.push_back({host, range.size});
        if (shape.huge_pages) madvise(host, range.size, MADV_HUGEPAGE);  // advice only
        kvm_userspace_memory_region region{};
        region.slot = slot++;
        region.guest_phys_addr = range.base;
        region.memory_size = range.size;
        region.userspace_addr = reinterpret_cast<uint64_t>(host);
        if (ioctl(m_vm.get(), KVM_SET_USER_MEMORY_REGION, &region) < 0)
            return system_error(ErrorKind::VmFailed, "KVM_SET_USER_MEMORY_REGION");
        regions.push_back({range.base, range.size, static_cast<std::byte*>(host)});
    }
    m_memory = GuestMemory(std::move(regions));
    return {};
}

ExpectedVoid Vm::create_vcpu(const Kvm& kvm) {
    m_vcpu.reset(ioctl(m_vm.get(), KVM_CREATE_VCPU, 0));
    if (!m_vcpu.valid()) return system_error(ErrorKind::VmFailed, "KVM_CREATE_VCPU");
    m_run_size = kvm.vcpu_mmap_size();
    void* run = mmap(nullptr, m_run_size, PROT_READ | PROT_WRITE, MAP_SHARED, m_vcpu.get(), 0);
    if (run == MAP_FAILED) return system_error(ErrorKind::VmFailed, "mmap of the vCPU run area");
    m_run = static_cast<kvm_run*>(run);

    int khz = ioctl(m_vcpu.get(), KVM_GET_TSC_KHZ, 0);
    m_tsc_khz = khz > 0 ? uint32_t(khz) : 0;
    auto entries = guest_cpuid(kvm.supported_cpuid(), m_tsc_khz, 0);
    abi::CpuidList cpuid(uint32_t(entries.size()));
    std::copy(entries.begin(), entries.end(), cpuid.entries());
    if (ioctl(m_vcpu.get(), abi::kSetCpuid2, cpuid.data()) < 0)
        return system_error(ErrorKind::VmFailed, "KVM_SET_CPUID2");

    abi::MsrList msrs(2);
    msrs.entries()[0] = {kMsrMiscEnable, 0, kMiscEnableFastStrings};
    msrs.entries()[1] = {kMsrMtrrDefType, 0, kMtrrEnabledWriteBack};
    if (ioctl(m_vcpu.get(), abi::kSetMsrs, msrs.data()) != 2)
        return system_error(ErrorKind::VmFailed, "KVM_SET_MSRS");
    return {};
}

ExpectedVoid Vm::set_pvh_entry(uint32_t entry, uint32_t start_info) {
    kvm_sregs sregs{};
    if (ioctl(m_vcpu.get(), KVM_GET_SREGS, &sregs) < 0)
        return system_error(ErrorKind::VmFailed, "KVM_GET_SREGS");
    sregs.cs = flat_segment(0x10, 0xb);  // execute/read, accessed
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = flat_segment(0x18, 0x3);
    sregs.tr = flat_segment(0x20, 0xb);  // busy 32-bit TSS
    sregs.tr.s = 0;
    sregs.tr.limit = 0x67;
    sregs.tr.g = 0;
    sregs.tr.db = 0;
    sregs.cr0 = 0x11;  // PE, ET
    sregs.cr4 = 0;
    sregs.efer = 0;
    if (ioctl(m_vcpu.get(), KVM_SET_SREGS, &sregs) < 0)
        return system_error(ErrorKind::VmFailed, "KVM_SET_SREGS");
    kvm_regs regs{};
    regs.rip = entry;
    regs.rbx = start_info;
    regs.rflags = 0x2;
    if (ioctl(m_vcpu.get(), KVM_SET_REGS, &regs) < 0)
        return system_error(ErrorKind::VmFailed, "KVM_SET_REGS");
    return {};
}

bool Vm::read_registers(kvm_regs& regs, kvm_sregs& sregs) const {
    return ioctl(m_vcpu.get(), KVM_GET_REGS, &regs) == 0 &&
           ioctl(m_vcpu.get(), KVM_GET_SREGS, &sregs) == 0;
}

int Vm::run() {
    if (ioctl(m_vcpu.get(), KVM_RUN, 0) < 0) {
        int error = errno;
        __atomic_store_n(&m_run->immediate_exit, 0, __ATOMIC_SEQ_CST);
        return -error;
    }
    return 0;
}

void Vm::signal(const MsiMessage& message) {
    kvm_msi msi{};
    msi.address_lo = message.address;
    msi.data = message.data;
    ioctl(m_vm.get(), KVM_SIGNAL_MSI, &msi);  // 0: the guest had it masked; both are fine
}

void Vm::set_routes(const std::array<MsiMessage, 24>& routes, const std::array<bool, 24>& present) {
    uint32_t count = 0;
    for (bool p : present) count += p;
    abi::IrqRouting table(count);
    uint32_t at = 0;
    for (uint32_t pin = 0; pin < routes.size(); ++pin) {
        if (!present[pin]) continue;
        kvm_irq_routing_entry& entry = table.entries()[at++];
        entry = {};
        entry.gsi = pin;
        entry.type = KVM_IRQ_ROUTING_MSI;
        entry.u.msi.address_lo = routes[pin].address;
        entry.u.msi.data = routes[pin].data;
    }
    ioctl(m_vm.get(), abi::kSetGsiRouting, table.data());
}

}  // namespace vmm
