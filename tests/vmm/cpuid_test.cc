// guest_cpuid over a hand-made "supported" list: what the guest must not see is cleared, the
// hypervisor bit and APIC IDs are set, and the hypervisor base and timing leaves are added or
// replaced; every other leaf passes through untouched.
#include "vmm/kvm/cpuid.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr uint32_t bit(unsigned n) { return uint32_t(1) << n; }

kvm_cpuid_entry2 leaf(uint32_t function, uint32_t index, uint32_t eax, uint32_t ebx, uint32_t ecx,
                      uint32_t edx, uint32_t flags = 0) {
    kvm_cpuid_entry2 e{};
    e.function = function;
    e.index = index;
    e.flags = flags;
    e.eax = eax;
    e.ebx = ebx;
    e.ecx = ecx;
    e.edx = edx;
    return e;
}

// The entries for (function, index), in order.
std::vector<kvm_cpuid_entry2> find(const std::vector<kvm_cpuid_entry2>& entries, uint32_t function,
                                   uint32_t index = 0) {
    std::vector<kvm_cpuid_entry2> out;
    for (const auto& e : entries)
        if (e.function == function && e.index == index) out.push_back(e);
    return out;
}

void expect_same(const kvm_cpuid_entry2& a, const kvm_cpuid_entry2& b) {
    EXPECT_EQ(std::memcmp(&a, &b, sizeof(a)), 0)
        << std::hex << "leaf 0x" << a.function << "." << a.index;
}

std::string signature(const kvm_cpuid_entry2& e) {
    char text[12];
    std::memcpy(text, &e.ebx, 4);
    std::memcpy(text + 4, &e.ecx, 4);
    std::memcpy(text + 8, &e.edx, 4);
    return std::string(text, 12);
}

constexpr uint32_t kFlagSignificantIndex = 1;  // KVM_CPUID_FLAG_SIGNIFICANT_INDEX

// A host's supported list, roughly: every feature bit this function edits set.
std::vector<kvm_cpuid_entry2> supported() {
    return {
        leaf(0, 0, 0x1f, 0x756e6547, 0x6c65746e, 0x49656e69),  // "GenuineIntel"
        leaf(1, 0, 0x000906ea, 0x07100800, 0x7ffafbff, 0xbfebfbff),
        leaf(7, 0, 0, 0x029c6fbf, 0x40000000, 0x9c002e00 | bit(29), kFlagSignificantIndex),
        leaf(7, 1, 0x00000400, 0, 0, bit(29), kFlagSignificantIndex),
        leaf(0xb, 0, 1, 2, 0x100, 7, kFlagSignificantIndex),
        leaf(0xb, 1, 4, 8, 0x201, 7, kFlagSignificantIndex),
        leaf(0x1f, 0, 1, 2, 0x100, 7, kFlagSignificantIndex),
        leaf(0x80000000, 0, 0x80000008, 0, 0, 0),
        leaf(0x80000001, 0, 0, 0, 0x00000121 | bit(2), 0x2c100800),
    };
}

TEST(GuestCpuid, ClearsVmxAndSetsTheHypervisorBit) {
    auto entries = vmm::guest_cpuid(supported(), 2'000'000, 0);
    auto leaf1 = find(entries, 1);
    ASSERT_EQ(leaf1.size(), 1u);
    EXPECT_EQ(leaf1[0].ecx, (0x7ffafbffu & ~bit(5)) | bit(31));
    EXPECT_EQ(leaf1[0].edx, 0xbfebfbffu);
    EXPECT_EQ(leaf1[0].eax, 0x000906eau);
}

TEST(GuestCpuid, ClearsSvm) {
    auto entries = vmm::guest_cpuid(supported(), 2'000'000, 0);
    auto ext = find(entries, 0x80000001);
    ASSERT_EQ(ext.size(), 1u);
    EXPECT_EQ(ext[0].ecx, 0x00000121u);
    EXPECT_EQ(ext[0].edx, 0x2c100800u);
}

TEST(GuestCpuid, HidesArchCapabilitiesInLeaf7SubleafZeroOnly) {
    auto entries = vmm::guest_cpuid(supported(), 2'000'000, 0);
    auto sub0 = find(entries, 7, 0), sub1 = find(entries, 7, 1);
    ASSERT_EQ(sub0.size(), 1u);
    ASSERT_EQ(sub1.size(), 1u);
    EXPECT_EQ(sub0[0].edx, 0x9c002e00u);
    EXPECT_EQ(sub0[0].ebx, 0x029c6fbfu);
    EXPECT_EQ(sub0[0].ecx, 0x40000000u);
    EXPECT_EQ(sub1[0].edx, bit(29)) << "bit 29 of 7.1 EDX is another feature";
}

TEST(GuestCpuid, ApicIds) {
    auto entries = vmm::guest_cpuid(supported(), 2'000'000, 5);
    auto leaf1 = find(entries, 1);
    ASSERT_EQ(leaf1.size(), 1u);
    EXPECT_EQ(leaf1[0].ebx, 0x05100800u) << "initial APIC ID in EBX[31:24], the rest kept";
    for (uint32_t function : {0xbu, 0x1fu}) {
        auto sub0 = find(entries, function, 0);
        ASSERT_EQ(sub0.size(), 1u);
        EXPECT_EQ(sub0[0].edx, 5u) << "x2APIC ID";
        EXPECT_EQ(sub0[0].ecx, 0x100u);
    }
    auto b1 = find(entries, 0xb, 1);
    ASSERT_EQ(b1.size(), 1u);
    EXPECT_EQ(b1[0].edx, 5u);
    EXPECT_EQ(b1[0].ebx, 8u);
}

TEST(GuestCpuid, AddsKvmBaseAndTimingLeaves) {
    auto host = supported();
    auto entries = vmm::guest_cpuid(host, 2'345'678, 0);
    ASSERT_EQ(entries.size(), host.size() + 2);
    auto base = find(entries, 0x40000000);
    ASSERT_EQ(base.size(), 1u);
    EXPECT_EQ(base[0].eax, 0x40000010u) << "the highest hypervisor leaf";
    EXPECT_EQ(signature(base[0]), std::string("KVMKVMKVM\0\0\0", 12));
    auto timing = find(entries, 0x40000010);
    ASSERT_EQ(timing.size(), 1u);
    EXPECT_EQ(timing[0].eax, 2'345'678u);
    EXPECT_EQ(timing[0].ebx, 1'000'000u);
    EXPECT_EQ(timing[0].ecx, 0u);
    EXPECT_EQ(timing[0].edx, 0u);
    EXPECT_EQ(timing[0].flags, 0u);
    EXPECT_EQ(vmm::kTimingLeaf, 0x40000010u);
    EXPECT_EQ(vmm::kApicTimerKhz, 1'000'000u);
}

TEST(GuestCpuid, KeepsTheHostsBaseLeafAndRaisesItsRange) {
    auto host = supported();
    host.push_back(leaf(0x40000000, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d));
    host.push_back(leaf(0x40000001, 0, 0x01007afb, 0, 0, 0));  // kvmclock features
    auto entries = vmm::guest_cpuid(host, 1'000'000, 0);
    ASSERT_EQ(entries.size(), host.size() + 1) << "only the timing leaf is added";
    auto base = find(entries, 0x40000000);
    ASSERT_EQ(base.size(), 1u);
    EXPECT_EQ(base[0].eax, 0x40000010u);
    EXPECT_EQ(signature(base[0]), std::string("KVMKVMKVM\0\0\0", 12));
    expect_same(find(entries, 0x40000001).at(0), host.back());

    host[host.size() - 2].eax = 0x40000020;  // a wider range stays as it is
    auto wide = vmm::guest_cpuid(host, 1'000'000, 0);
    EXPECT_EQ(find(wide, 0x40000000).at(0).eax, 0x40000020u);
}

TEST(GuestCpuid, ReplacesAHostTimingLeaf) {
    auto host = supported();
    host.push_back(leaf(0x40000010, 0, 999, 888, 777, 666));
    auto entries = vmm::guest_cpuid(host, 3'000'000, 0);
    auto timing = find(entries, 0x40000010);
    ASSERT_EQ(timing.size(), 1u);
    EXPECT_EQ(timing[0].eax, 3'000'000u);
    EXPECT_EQ(timing[0].ebx, 1'000'000u);
    EXPECT_EQ(timing[0].ecx, 0u);
    EXPECT_EQ(timing[0].edx, 0u);
    EXPECT_EQ(entries.size(), host.size() + 1) << "the base leaf added, the old timing leaf gone";
}

TEST(GuestCpuid, OtherLeavesPassThroughInOrder) {
    auto host = supported();
    auto entries = vmm::guest_cpuid(host, 1, 0);
    ASSERT_GE(entries.size(), host.size());
    for (size_t i = 0; i < host.size(); ++i) EXPECT_EQ(entries[i].function, host[i].function) << i;
    expect_same(entries[0], host[0]);
    expect_same(entries[7], host[7]);
    EXPECT_EQ(entries[2].flags, kFlagSignificantIndex);
}

TEST(GuestCpuid, EmptySupportedListStillGetsTheHypervisorLeaves) {
    auto entries = vmm::guest_cpuid({}, 1'500'000, 0);
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].function, 0x40000000u);
    EXPECT_EQ(entries[1].function, 0x40000010u);
    EXPECT_EQ(entries[1].eax, 1'500'000u);
}

}  // namespace
