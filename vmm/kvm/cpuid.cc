#include "vmm/kvm/cpuid.h"

namespace vmm {

namespace {

constexpr uint32_t bit(unsigned n) { return uint32_t(1) << n; }

constexpr uint32_t kLeaf1EcxVmx = bit(5);
constexpr uint32_t kLeaf1EcxHypervisor = bit(31);
constexpr uint32_t kLeaf7EdxArchCapabilities = bit(29);
constexpr uint32_t kExtLeaf1EcxSvm = bit(2);
constexpr uint32_t kHypervisorBase = 0x40000000;

}  // namespace

std::vector<kvm_cpuid_entry2> guest_cpuid(const std::vector<kvm_cpuid_entry2>& supported,
                                          uint32_t tsc_khz, uint32_t vcpu_id) {
    std::vector<kvm_cpuid_entry2> entries;
    entries.reserve(supported.size() + 1);
    bool have_base = false;
    for (kvm_cpuid_entry2 entry : supported) {
        switch (entry.function) {
            case 1:
                entry.ecx &= ~kLeaf1EcxVmx;
                entry.ecx |= kLeaf1EcxHypervisor;
                entry.ebx = (entry.ebx & 0x00ffffff) | (vcpu_id << 24);  // initial APIC ID
                break;
            case 7:
                if (entry.index == 0) entry.edx &= ~kLeaf7EdxArchCapabilities;
                break;
            case 0xb:
            case 0x1f:
                entry.edx = vcpu_id;  // x2APIC ID
                break;
            case 0x80000001:
                entry.ecx &= ~kExtLeaf1EcxSvm;
                break;
            case kHypervisorBase:
                have_base = true;
                if (entry.eax < kTimingLeaf) entry.eax = kTimingLeaf;
                break;
            case kTimingLeaf:
                continue;  // replaced below
            default:
                break;
        }
        entries.push_back(entry);
    }
    if (!have_base) {
        // "KVMKVMKVM\0\0\0": KVM's signature, so the guest also finds kvmclock's leaf.
        kvm_cpuid_entry2 base{};
        base.function = kHypervisorBase;
        base.eax = kTimingLeaf;
        base.ebx = 0x4b4d564b;
        base.ecx = 0x564b4d56;
        base.edx = 0x0000004d;
        entries.push_back(base);
    }
    kvm_cpuid_entry2 timing{};
    timing.function = kTimingLeaf;
    timing.eax = tsc_khz;
    timing.ebx = kApicTimerKhz;
    entries.push_back(timing);
    return entries;
}

}  // namespace vmm
