// KVM's variable-length ioctl structures, declared for C++. Linux's uapi headers declare the
// trailing arrays with __DECLARE_FLEX_ARRAY, whose empty struct has size 1 in C++: entries
// land at offset 12 instead of 8 and the ioctl numbers encode size 12, which KVM rejects
// (EINVAL). These headers match the kernel's C layout; the ioctl numbers use them.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <vector>

namespace vmm::abi {

struct CpuidHeader {
    uint32_t nent;
    uint32_t padding;
};
struct MsrsHeader {
    uint32_t nmsrs;
    uint32_t pad;
};
static_assert(sizeof(CpuidHeader) == 8 && sizeof(MsrsHeader) == 8);

struct IrqRoutingHeader {
    uint32_t nr;
    uint32_t flags;
};
static_assert(sizeof(IrqRoutingHeader) == 8);

inline constexpr unsigned long kSetGsiRouting = _IOW(KVMIO, 0x6a, IrqRoutingHeader);
inline constexpr unsigned long kGetSupportedCpuid = _IOWR(KVMIO, 0x05, CpuidHeader);
inline constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, CpuidHeader);
inline constexpr unsigned long kSetMsrs = _IOW(KVMIO, 0x89, MsrsHeader);

// A header followed by `count` entries, laid out as the kernel expects.
template <typename Header, typename Entry>
class VarStruct {
public:
    explicit VarStruct(uint32_t count) : m_bytes(sizeof(Header) + count * sizeof(Entry)) {
        *reinterpret_cast<uint32_t*>(m_bytes.data()) = count;
    }
    void* data() { return m_bytes.data(); }
    uint32_t count() const { return *reinterpret_cast<const uint32_t*>(m_bytes.data()); }
    Entry* entries() { return reinterpret_cast<Entry*>(m_bytes.data() + sizeof(Header)); }

private:
    std::vector<uint8_t> m_bytes;
};

using CpuidList = VarStruct<CpuidHeader, kvm_cpuid_entry2>;
using MsrList = VarStruct<MsrsHeader, kvm_msr_entry>;
using IrqRouting = VarStruct<IrqRoutingHeader, kvm_irq_routing_entry>;

}  // namespace vmm::abi
