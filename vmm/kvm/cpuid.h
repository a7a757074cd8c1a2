// The CPUID a Phoenix guest sees: what the host's KVM supports, minus what a guest must not
// see (virtualization extensions, IA32_ARCH_CAPABILITIES), plus the hypervisor leaves that
// hand it the TSC frequency so it never calibrates. A pure function, unit tested.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <vector>

namespace vmm {

// CPUID.(EAX=0x40000010): the timing leaf (EAX: TSC kHz, EBX: local APIC timer kHz) that
// QEMU, VMware and Phoenix's kernel agree on.
inline constexpr uint32_t kTimingLeaf = 0x40000010;
// KVM's local APIC timer ticks at 1 GHz.
inline constexpr uint32_t kApicTimerKhz = 1000000;

std::vector<kvm_cpuid_entry2> guest_cpuid(const std::vector<kvm_cpuid_entry2>& supported,
                                          uint32_t tsc_khz, uint32_t vcpu_id);

}  // namespace vmm
