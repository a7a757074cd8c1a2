// The user-space I/O APIC, driven register by register the way a guest driver programs it:
// edge and level pins, remote IRR and EOI, masking, polarity, MSI encoding, and the routes it
// hands KVM for EOI exits; plus the malformed accesses a guest may make.
#include "vmm/devices/ioapic.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace {

using vmm::IoApic;
using vmm::MsiMessage;

class FakeSink final : public vmm::MsiSink {
public:
    void signal(const MsiMessage& message) override { signals.push_back(message); }
    void set_routes(const std::array<MsiMessage, 24>& r, const std::array<bool, 24>& p) override {
        routes = r;
        present = p;
        ++route_updates;
    }
    std::vector<MsiMessage> signals;
    std::array<MsiMessage, 24> routes{};
    std::array<bool, 24> present{};
    int route_updates = 0;
};

constexpr uint32_t kLevel = 1u << 15, kMasked = 1u << 16, kActiveLow = 1u << 13;
constexpr uint32_t kRemoteIrr = 1u << 14, kDeliveryStatus = 1u << 12, kLogical = 1u << 11;

class IoApicTest : public ::testing::Test {
protected:
    void write32(uint64_t offset, uint32_t value) {
        std::byte bytes[4];
        std::memcpy(bytes, &value, 4);
        ioapic.mmio_write(offset, bytes);
    }
    uint32_t read32(uint64_t offset) {
        std::byte bytes[4];
        ioapic.mmio_read(offset, bytes);
        uint32_t value;
        std::memcpy(&value, bytes, 4);
        return value;
    }
    void select(uint8_t index) {
        std::byte b[1] = {std::byte(index)};
        ioapic.mmio_write(0x00, b);
    }
    uint32_t read_register(uint8_t index) {
        select(index);
        return read32(0x10);
    }
    void write_register(uint8_t index, uint32_t value) {
        select(index);
        write32(0x10, value);
    }
    void program(uint32_t pin, uint32_t low, uint8_t dest = 0) {
        write_register(uint8_t(0x11 + 2 * pin), uint32_t(dest) << 24);
        write_register(uint8_t(0x10 + 2 * pin), low);
    }

    FakeSink sink;
    IoApic ioapic{sink};
};

TEST_F(IoApicTest, IdentifiesAsA24PinVersion11AndStartsMasked) {
    EXPECT_EQ(read_register(0x01), 0x00170011u);
    for (uint32_t pin = 0; pin < 24; ++pin) EXPECT_TRUE(ioapic.entry(pin) & kMasked) << pin;
    write_register(0x00, 0x0a000000);
    EXPECT_EQ(read_register(0x00), 0x0a000000u);
}

TEST_F(IoApicTest, EdgePinDeliversOncePerRisingEdge) {
    program(4, 0x30);
    ioapic.set_level(4, true);
    ioapic.set_level(4, true);  // still high: no new edge
    ASSERT_EQ(sink.signals.size(), 1u);
    EXPECT_EQ(sink.signals[0], (MsiMessage{0xfee00000u, 0x30}));
    ioapic.set_level(4, false);
    ioapic.set_level(4, true);
    EXPECT_EQ(sink.signals.size(), 2u);
}

TEST_F(IoApicTest, MaskedEdgePinDeliversNothing) {
    program(4, 0x30 | kMasked);
    ioapic.set_level(4, true);
    EXPECT_TRUE(sink.signals.empty());
}

TEST_F(IoApicTest, LevelPinWaitsForEoiAndRedeliversWhileAsserted) {
    program(5, 0x31 | kLevel);
    ioapic.set_level(5, true);
    ASSERT_EQ(sink.signals.size(), 1u);
    EXPECT_EQ(sink.signals[0].data, 0x31u | 1u << 15 | 1u << 14);
    EXPECT_TRUE(ioapic.entry(5) & kRemoteIrr);
    ioapic.set_level(5, true);
    EXPECT_EQ(sink.signals.size(), 1u) << "no second delivery before the EOI";
    ioapic.end_of_interrupt(0x40);  // another vector: nothing
    EXPECT_EQ(sink.signals.size(), 1u);
    ioapic.end_of_interrupt(0x31);  // still asserted: again
    EXPECT_EQ(sink.signals.size(), 2u);
    ioapic.set_level(5, false);
    ioapic.end_of_interrupt(0x31);
    EXPECT_EQ(sink.signals.size(), 2u);
    EXPECT_FALSE(ioapic.entry(5) & kRemoteIrr);
}

TEST_F(IoApicTest, LevelAssertedWhileMaskedGoesOutOnUnmask) {
    program(6, 0x32 | kLevel | kMasked);
    ioapic.set_level(6, true);
    EXPECT_TRUE(sink.signals.empty());
    program(6, 0x32 | kLevel);
    EXPECT_EQ(sink.signals.size(), 1u);
}

TEST_F(IoApicTest, ActiveLowPinIsAssertedByALowLine) {
    ioapic.set_level(7, true);  // idle high before the guest programs the pin
    program(7, 0x33 | kLevel | kActiveLow);
    EXPECT_TRUE(sink.signals.empty());
    ioapic.set_level(7, false);
    EXPECT_EQ(sink.signals.size(), 1u);
}

TEST_F(IoApicTest, DestinationAndModesReachTheMsi) {
    program(3, 0x41 | kLogical | 1u << 8, 0x05);  // lowest priority, logical, dest 5
    ioapic.set_level(3, true);
    ASSERT_EQ(sink.signals.size(), 1u);
    EXPECT_EQ(sink.signals[0], (MsiMessage{0xfee05004u, 0x141}));
    // ExtINT needs a PIC, which there is none of: never delivered.
    program(8, 0x42 | 7u << 8);
    ioapic.set_level(8, true);
    EXPECT_EQ(sink.signals.size(), 1u);
}

TEST_F(IoApicTest, RoutesFollowTheRedirectionTable) {
    program(2, 0x50 | kLevel, 1);
    EXPECT_TRUE(sink.present[2]);
    EXPECT_EQ(sink.routes[2], (MsiMessage{0xfee01000u, 0x50 | 1u << 15 | 1u << 14}));
    EXPECT_FALSE(sink.present[3]);
    program(2, 0x50 | kLevel | kMasked, 1);
    EXPECT_FALSE(sink.present[2]);
}

TEST_F(IoApicTest, ReadOnlyBitsAndMalformedAccessesAreIgnored) {
    program(1, 0x60 | kRemoteIrr | kDeliveryStatus);
    EXPECT_FALSE(ioapic.entry(1) & (kRemoteIrr | kDeliveryStatus));
    int updates = sink.route_updates;
    write_register(0x01, 0xffffffff);  // the version register is read-only
    write_register(0x40, 0x12345678);  // past the table
    EXPECT_EQ(read_register(0x40), 0u);
    EXPECT_EQ(read_register(0xff), 0u);
    EXPECT_EQ(read_register(0x01), 0x00170011u);
    EXPECT_EQ(sink.route_updates, updates);
    select(0x12);
    std::byte two[2] = {};
    ioapic.mmio_write(0x10, two);  // not a 32-bit write: ignored
    ioapic.mmio_write(0x20, two);  // no register there
    EXPECT_TRUE(ioapic.entry(1) == 0x60u);
    ioapic.set_level(24, true);  // no such pin
    ioapic.set_level(~0u, true);
    EXPECT_TRUE(sink.signals.empty());
    std::byte wide[8];
    ioapic.mmio_read(0x10, wide);  // an 8-byte read gets the register, zero-extended
}

}  // namespace
