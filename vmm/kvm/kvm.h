// /dev/kvm: opened once per run, checked for the API version and the capabilities Phoenix
// needs, and asked once for what the host CPU can offer (CPUID). VMs are created from it.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vmm/error.h"
#include "vmm/kvm/unique_fd.h"

namespace vmm {

class Kvm {
public:
    // Usage errors for a missing /dev/kvm, no permission, the wrong API version or a missing
    // capability, each naming the problem.
    static Expected<std::unique_ptr<Kvm>> open(const std::string& path = "/dev/kvm");

    int fd() const { return m_fd.get(); }
    size_t vcpu_mmap_size() const { return m_vcpu_mmap_size; }
    // KVM_GET_SUPPORTED_CPUID, as the host reports it.
    const std::vector<kvm_cpuid_entry2>& supported_cpuid() const { return m_cpuid; }
    bool has_tsc_control() const { return m_tsc_control; }

private:
    Kvm() = default;

    UniqueFd m_fd;
    size_t m_vcpu_mmap_size = 0;
    std::vector<kvm_cpuid_entry2> m_cpuid;
    bool m_tsc_control = false;
};

}  // namespace vmm
