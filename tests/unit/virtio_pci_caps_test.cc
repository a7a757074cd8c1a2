// The virtio PCI capability walk over hand-built configuration spaces: QEMU's layout, and the
// ways a hostile device can bend the list (loops, pointers into the header, short or
// overhanging entries, bad BAR indexes, misaligned offsets).
#include <gtest/gtest.h>

#include <array>
#include <cstring>

#include "lib/virtio/pci_caps.h"
#include "lib/virtio/pci_regs.h"

namespace {

using namespace lib::virtio::pci;

class FakeConfig final : public ConfigSpace {
public:
    FakeConfig() { put16(kConfigStatus, kStatusCapabilitiesList); }
    uint32_t read32(uint8_t offset) const override {
        EXPECT_EQ(offset % 4, 0) << "unaligned read";
        ++reads;
        uint32_t v;
        std::memcpy(&v, bytes.data() + offset, 4);
        return v;
    }
    void put8(size_t at, uint8_t v) { bytes.at(at) = v; }
    void put16(size_t at, uint16_t v) { std::memcpy(&bytes.at(at), &v, 2); }
    void put32(size_t at, uint32_t v) { std::memcpy(&bytes.at(at), &v, 4); }
    // A struct virtio_pci_cap at `at`, linked to `next`.
    void vendor_cap(uint8_t at, uint8_t next, uint8_t type, uint8_t bar, uint32_t offset,
                    uint32_t length, uint8_t cap_len = kCapSize) {
        put8(at + kCapVndr, kCapIdVendor);
        put8(at + kCapNext, next);
        put8(at + kCapLen, cap_len);
        put8(at + kCapCfgType, type);
        put8(at + kCapBar, bar);
        put32(at + kCapOffset, offset);
        put32(at + kCapLength, length);
    }
    void first(uint8_t at) { put8(kConfigCapabilitiesPointer, at); }

    std::array<uint8_t, 256> bytes{};
    mutable unsigned reads = 0;
};

// QEMU 7.2's virtio-blk-pci: MSI-X at 0x98, then ISR, common, device, notify, PCI_CFG.
FakeConfig qemu_like() {
    FakeConfig c;
    c.first(0x98);
    c.put8(0x98, kCapIdMsix);
    c.put8(0x99, 0x84);
    c.put16(0x9a, 0x0001);  // two vectors, disabled
    c.vendor_cap(0x84, 0x70, kCfgTypePci, 0, 0, 0, 20);
    c.vendor_cap(0x70, 0x60, kCfgTypeNotify, 4, 0x3000, 0x1000, 20);
    c.put32(0x70 + kNotifyCapMultiplier, 4);
    c.vendor_cap(0x60, 0x50, kCfgTypeDevice, 4, 0x2000, 0x1000);
    c.vendor_cap(0x50, 0x40, kCfgTypeIsr, 4, 0x1000, 0x1000);
    c.vendor_cap(0x40, 0x00, kCfgTypeCommon, 4, 0x0000, 0x1000);
    return c;
}

TEST(VirtioPciCaps, FindsQemuStructures) {
    Capabilities caps = find_capabilities(qemu_like());
    ASSERT_TRUE(caps.modern());
    EXPECT_EQ(caps.common.bar, 4);
    EXPECT_EQ(caps.common.offset, 0u);
    EXPECT_EQ(caps.common.length, 0x1000u);
    EXPECT_EQ(caps.isr.offset, 0x1000u);
    ASSERT_TRUE(caps.device.present);
    EXPECT_EQ(caps.device.offset, 0x2000u);
    EXPECT_EQ(caps.notify.offset, 0x3000u);
    EXPECT_EQ(caps.notify_off_multiplier, 4u);
    EXPECT_FALSE(caps.msix_enabled);
}

TEST(VirtioPciCaps, NoCapabilityListMeansNothing) {
    FakeConfig c = qemu_like();
    c.put16(kConfigStatus, 0);
    EXPECT_FALSE(find_capabilities(c).modern());
    FakeConfig legacy_only;  // a transitional device with its modern interface off
    EXPECT_FALSE(find_capabilities(legacy_only).modern());
}

TEST(VirtioPciCaps, ReportsMsixEnabled) {
    FakeConfig c = qemu_like();
    c.put16(0x9a, 0x8001);
    EXPECT_TRUE(find_capabilities(c).msix_enabled);
}

TEST(VirtioPciCaps, FindsTheMsixTable) {
    FakeConfig c = qemu_like();
    c.put32(0x9c, 0x2000 | 1);  // table at BAR 1, offset 0x2000
    Capabilities caps = find_capabilities(c);
    ASSERT_TRUE(caps.msix.present);
    EXPECT_EQ(caps.msix.capability, 0x98);
    EXPECT_EQ(caps.msix.table_size, 2);
    EXPECT_EQ(caps.msix.table.bar, 1);
    EXPECT_EQ(caps.msix.table.offset, 0x2000u);
    EXPECT_EQ(caps.msix.table.length, 32u);
    c.put32(0x9c, 0x2000 | 7);  // BIR 7 does not exist
    EXPECT_FALSE(find_capabilities(c).msix.present);
    EXPECT_FALSE(find_capabilities(FakeConfig{}).msix.present);
}

TEST(VirtioPciCaps, LoopsEndAfterAConfigSpaceWorth) {
    FakeConfig c;
    c.first(0x40);
    c.vendor_cap(0x40, 0x44, kCfgTypeDevice, 0, 0, 16, 4);  // too short: ignored
    c.vendor_cap(0x44, 0x40, kCfgTypeIsr, 0, 0, 16, 4);
    unsigned before = c.reads;
    Capabilities caps = find_capabilities(c);
    EXPECT_FALSE(caps.isr.present);
    EXPECT_LE(c.reads - before, 3u + 48u) << "one header read per entry, at most 48 entries";
}

TEST(VirtioPciCaps, PointersIntoTheHeaderEndTheWalk) {
    FakeConfig c = qemu_like();
    c.first(0x3c);  // inside the standard header
    EXPECT_FALSE(find_capabilities(c).common.present);
    c = qemu_like();
    c.put8(0x50 + kCapNext, 0x10);  // ISR's next points into the header: common is never seen
    Capabilities caps = find_capabilities(c);
    EXPECT_TRUE(caps.isr.present);
    EXPECT_FALSE(caps.common.present);
    c = qemu_like();
    c.first(0x9b);  // low bits are reserved: masked to 0x98
    EXPECT_TRUE(find_capabilities(c).modern());
}

TEST(VirtioPciCaps, EntriesMustFitConfigSpaceAndTheirType) {
    FakeConfig c;
    c.first(0xf4);
    c.put8(0xf4, kCapIdVendor);
    c.put8(0xf5, 0xe0);
    c.put8(0xf6, kCapSize);
    c.put8(0xf7, kCfgTypeIsr);  // its 16 bytes would run past 0xff
    c.vendor_cap(0xe0, 0, kCfgTypeCommon, 0, 0, 0x100);
    Capabilities caps = find_capabilities(c);
    EXPECT_FALSE(caps.isr.present);
    EXPECT_TRUE(caps.common.present) << "the walk goes on past a bad entry";

    FakeConfig last;
    last.first(0xf0);
    last.vendor_cap(0xf0, 0, kCfgTypeCommon, 0, 0, 0x100);  // ends exactly at 0xff
    EXPECT_TRUE(find_capabilities(last).common.present);

    FakeConfig n;
    n.first(0x40);
    n.vendor_cap(0x40, 0, kCfgTypeNotify, 0, 0, 0x100, kCapSize);  // no multiplier field
    EXPECT_FALSE(find_capabilities(n).notify.present);
}

TEST(VirtioPciCaps, BadBarsAndMisalignedOffsetsAreSkippedForTheNextInstance) {
    FakeConfig c;
    c.first(0x40);
    c.vendor_cap(0x40, 0x50, kCfgTypeCommon, 6, 0, 0x100);          // BAR 6 does not exist
    c.vendor_cap(0x50, 0x60, kCfgTypeCommon, 2, 0x102, 0x100);      // not 4-aligned
    c.vendor_cap(0x60, 0x70, kCfgTypeCommon, 1, 0x200, 0x100);      // the one to use
    c.vendor_cap(0x70, 0x80, kCfgTypeCommon, 3, 0x300, 0x100);      // later instances: ignored
    c.vendor_cap(0x80, 0x94, kCfgTypeNotify, 1, 0x401, 0x100, 20);  // odd: not 2-aligned
    c.vendor_cap(0x94, 0xa8, kCfgTypeNotify, 1, 0x402, 0x100, 20);
    c.vendor_cap(0xa8, 0xb8, kCfgTypeIsr, 1, 0x503, 1);  // ISR: any alignment
    c.vendor_cap(0xb8, 0, 9, 1, 0, 0x100);               // a reserved type
    Capabilities caps = find_capabilities(c);
    EXPECT_EQ(caps.common.bar, 1);
    EXPECT_EQ(caps.common.offset, 0x200u);
    EXPECT_EQ(caps.notify.offset, 0x402u);
    EXPECT_EQ(caps.isr.offset, 0x503u);
    EXPECT_TRUE(caps.modern());
    EXPECT_FALSE(caps.device.present);
}

TEST(VirtioPciCaps, RegionsMustFitTheirBar) {
    Region r{true, 4, 0x3000, 0x1000};
    EXPECT_TRUE(region_fits(r, 0x4000, 2));
    EXPECT_FALSE(region_fits(r, 0x3fff, 2));
    EXPECT_FALSE(region_fits(r, 0x4000, 0x1001)) << "shorter than the driver needs";
    Region high{true, 4, 0xffff'f000, 0x2000};  // ends past 4 GiB: 32-bit sums would wrap
    EXPECT_FALSE(region_fits(high, uint64_t(1) << 32, 2));
    EXPECT_TRUE(region_fits(high, uint64_t(1) << 33, 2));
    EXPECT_FALSE(region_fits(Region{}, 0x4000, 0));
}

TEST(VirtioPciCaps, NotifyOffsetsStayInsideTheStructure) {
    EXPECT_EQ(notify_offset(3, 4, 0x1000), 12u);
    EXPECT_EQ(notify_offset(0, 0, 2), 0u);
    EXPECT_EQ(notify_offset(0x3ff, 4, 0x1000), 0xffcu);
    EXPECT_EQ(notify_offset(0x400, 4, 0x1000), std::nullopt);
    EXPECT_EQ(notify_offset(0xffff, 0xffff'ffff, ~uint64_t(0)), 0xffffull * 0xffff'ffffull);
    EXPECT_EQ(notify_offset(0xffff, 0xffff'ffff, 0x1000), std::nullopt);
    EXPECT_EQ(notify_offset(0, 4, 1), std::nullopt) << "no room for the 16-bit write";
}

TEST(VirtioPciIds, ModernAndTransitionalIds) {
    EXPECT_EQ(device_type(kVendorId, 0x1042, 0), 2u);
    EXPECT_EQ(device_type(kVendorId, 0x1044, 0x1100), 4u);
    EXPECT_EQ(device_type(kVendorId, 0x1001, 2), 2u) << "transitional: the subsystem ID";
    EXPECT_EQ(device_type(kVendorId, 0x1005, 4), 4u);
    EXPECT_EQ(device_type(kVendorId, 0x1100, 2), 0u);
    EXPECT_EQ(device_type(0x8086, 0x1042, 2), 0u);
    EXPECT_TRUE(is_transitional_id(0x103f));
    EXPECT_FALSE(is_transitional_id(0x1040));
}

}  // namespace
