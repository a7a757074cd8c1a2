#include "vmm/kvm/kvm.h"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <cerrno>

#include "vmm/kvm/kvm_abi.h"

namespace vmm {

namespace {

struct RequiredCap {
    int cap;
    const char* name;
};

constexpr RequiredCap kRequiredCaps[] = {
    {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
    {KVM_CAP_SPLIT_IRQCHIP, "KVM_CAP_SPLIT_IRQCHIP"},
    {KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI"},
    {KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING"},
    {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
    {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
    {KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
};

}  // namespace

Expected<std::unique_ptr<Kvm>> Kvm::open(const std::string& path) {
    std::unique_ptr<Kvm> kvm(new Kvm());
    kvm->m_fd.reset(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (!kvm->m_fd.valid()) {
        if (errno == ENOENT)
            return usage_error(path + " does not exist: KVM is not available on this host "
                                      "(use --hypervisor qemu for TCG)");
        if (errno == EACCES || errno == EPERM)
            return usage_error(path + ": permission denied (add your user to the kvm group, "
                                      "or use --hypervisor qemu)");
        return system_error(ErrorKind::Usage, "cannot open " + path);
    }
    int version = ioctl(kvm->fd(), KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION)
        return usage_error(path + ": KVM API version " + std::to_string(version) + ", need " +
                           std::to_string(KVM_API_VERSION));
    for (const RequiredCap& required : kRequiredCaps)
        if (ioctl(kvm->fd(), KVM_CHECK_EXTENSION, required.cap) <= 0)
            return usage_error(std::string("KVM lacks the capability ") + required.name +
                               " that Phoenix needs");
    kvm->m_tsc_control = ioctl(kvm->fd(), KVM_CHECK_EXTENSION, KVM_CAP_TSC_CONTROL) > 0;

    int mmap_size = ioctl(kvm->fd(), KVM_GET_VCPU_MMAP_SIZE, 0);
    if (mmap_size < int(sizeof(kvm_run))) return system_error(ErrorKind::Usage, "KVM_GET_VCPU_MMAP_SIZE");
    kvm->m_vcpu_mmap_size = size_t(mmap_size);

    // The entry count is not known in advance: grow until KVM stops saying E2BIG.
    for (size_t count = 64; count <= 4096; count *= 2) {
        abi::CpuidList cpuid{uint32_t(count)};
        if (ioctl(kvm->fd(), abi::kGetSupportedCpuid, cpuid.data()) == 0) {
            kvm->m_cpuid.assign(cpuid.entries(), cpuid.entries() + cpuid.count());
            return kvm;
        }
        if (errno != E2BIG) return system_error(ErrorKind::Usage, "KVM_GET_SUPPORTED_CPUID");
    }
    return usage_error("KVM_GET_SUPPORTED_CPUID: too many entries");
}

}  // namespace vmm
