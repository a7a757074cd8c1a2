// One KVM virtual machine with one vCPU: its guest RAM (fresh anonymous memory, so nothing
// survives from an earlier boot), KVM's split irqchip (the local APIC in KVM; the I/O APIC is
// the VMM's, vmm/devices/ioapic.h, and reaches KVM through this VM as an MsiSink), and the
// vCPU set up for a PVH entry. Destroying it releases everything: fds, mappings, KVM objects.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "vmm/devices/ioapic.h"
#include "vmm/devices/mmio_device.h"
#include "vmm/error.h"
#include "vmm/kvm/kvm.h"
#include "vmm/kvm/unique_fd.h"
#include "vmm/memory/guest_memory.h"

namespace vmm {

struct VmShape {
    uint64_t memory_bytes = 1024ull << 20;
    // Back guest RAM with transparent huge pages: far fewer first-touch faults (and, nested,
    // far fewer EPT violations) for the same memory.
    bool huge_pages = true;
};

class Vm final : public MsiSink {
public:
    static Expected<std::unique_ptr<Vm>> create(const Kvm& kvm, const VmShape& shape);
    ~Vm() override;
    Vm(const Vm&) = delete;
    Vm& operator=(const Vm&) = delete;

    const GuestMemory& memory() const { return m_memory; }
    uint32_t tsc_khz() const { return m_tsc_khz; }

    // 32-bit protected mode, paging off, flat segments; EIP = entry, EBX = start_info.
    ExpectedVoid set_pvh_entry(uint32_t entry, uint32_t start_info);

    // KVM_RUN once. Returns 0, or -errno (EINTR when a signal or immediate_exit stopped it).
    int run();
    kvm_run& run_record() { return *m_run; }
    size_t run_size() const { return m_run_size; }
    // Make the current or next KVM_RUN return at once (async-signal-safe).
    void request_immediate_exit() { __atomic_store_n(&m_run->immediate_exit, 1, __ATOMIC_SEQ_CST); }

    // The vCPU's registers (KVM_GET_REGS, KVM_GET_SREGS), for the sampling profiler.
    bool read_registers(kvm_regs& regs, kvm_sregs& sregs) const;

    // MsiSink: KVM_SIGNAL_MSI, and KVM_SET_GSI_ROUTING so that KVM exits on the EOIs of
    // level-triggered pins' vectors (KVM_EXIT_IOAPIC_EOI).
    void signal(const MsiMessage& message) override;
    void set_routes(const std::array<MsiMessage, 24>& routes,
                    const std::array<bool, 24>& present) override;

private:
    Vm() = default;
    ExpectedVoid map_memory(const VmShape& shape);
    ExpectedVoid create_vcpu(const Kvm& kvm);

    struct Mapping {
        void* host;
        uint64_t size;
    };
    UniqueFd m_vm;
    UniqueFd m_vcpu;
    std::vector<Mapping> m_mappings;
    GuestMemory m_memory;
    kvm_run* m_run = nullptr;
    size_t m_run_size = 0;
    uint32_t m_tsc_khz = 0;
};

}  // namespace vmm
