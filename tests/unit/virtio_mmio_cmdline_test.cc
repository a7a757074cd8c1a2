#include "lib/virtio/mmio_cmdline.h"

#include <gtest/gtest.h>

#include <string>

namespace {

using lib::Errno;
using lib::virtio::parse_mmio_device;
using lib::virtio::parse_mmio_devices;

TEST(VirtioMmioCmdline, ParsesWhatTheHypervisorsWrite) {
    auto vmm = parse_mmio_device("4K@0xd0000000:5");  // Phoenix's VMM
    ASSERT_TRUE(vmm.has_value());
    EXPECT_EQ(vmm.value().base, 0xd0000000u);
    EXPECT_EQ(vmm.value().size, 4096u);
    EXPECT_EQ(vmm.value().irq, 5u);

    auto qemu = parse_mmio_device("512@0xfeb02e00:12");  // QEMU microvm
    ASSERT_TRUE(qemu.has_value());
    EXPECT_EQ(qemu.value().base, 0xfeb02e00u);
    EXPECT_EQ(qemu.value().size, 512u);
    EXPECT_EQ(qemu.value().irq, 12u);
}

TEST(VirtioMmioCmdline, SuffixesDecimalBaseAndId) {
    EXPECT_EQ(parse_mmio_device("1k@4096:1").value().size, 1024u);
    EXPECT_EQ(parse_mmio_device("2M@4096:1").value().size, 2u << 20);
    EXPECT_EQ(parse_mmio_device("1g@4096:1").value().size, 1u << 30);
    EXPECT_EQ(parse_mmio_device("1G@4096:1").value().base, 4096u);
    auto id = parse_mmio_device("0x200@0XFEB00000:7:3");
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ(id.value().size, 512u);
    EXPECT_EQ(id.value().base, 0xfeb00000u);
    EXPECT_EQ(id.value().irq, 7u);
}

TEST(VirtioMmioCmdline, RejectsMalformedValues) {
    for (const char* bad :
         {"", "4K", "4K@", "4K@0xd0000000", "4K@0xd0000000:", "4K0xd0000000:5", "@0x1000:5",
          "4X@0x1000:5", "4K@0x:5", "4K@0xg000:5", "4K@0x1000:5x", "4K@0x1000:5:", "4K@0x1000:-1",
          "4K@0x1000:5:1:2", " 4K@0x1000:5", "4K@0x1000:5 ", "K@0x1000:5", "-4K@0x1000:5"}) {
        auto r = parse_mmio_device(bad);
        ASSERT_TRUE(r.is_error()) << '"' << bad << '"';
        EXPECT_EQ(r.error(), Errno::Inval) << '"' << bad << '"';
    }
}

TEST(VirtioMmioCmdline, RejectsZeroSize) {
    EXPECT_EQ(parse_mmio_device("0@0x1000:5").error(), Errno::Inval);
    EXPECT_EQ(parse_mmio_device("0K@0x1000:5").error(), Errno::Inval);
}

TEST(VirtioMmioCmdline, RejectsOverflow) {
    EXPECT_EQ(parse_mmio_device("18446744073709551616@0x1000:5").error(), Errno::Overflow);
    EXPECT_EQ(parse_mmio_device("17179869184G@0x1000:5").error(), Errno::Overflow);
    EXPECT_EQ(parse_mmio_device("4K@0x10000000000000000:5").error(), Errno::Overflow);
    EXPECT_EQ(parse_mmio_device("4K@0xfffffffffffff000:5").error(), Errno::Overflow)
        << "base + size wraps";
    EXPECT_TRUE(parse_mmio_device("4K@0xffffffffffffe000:5").has_value()) << "ends at 2^64 - 4K";
    EXPECT_EQ(parse_mmio_device("4K@0x1000:4294967296").error(), Errno::Overflow);
    EXPECT_EQ(parse_mmio_device("4K@0x1000:4294967295").value().irq, 4294967295u);
}

TEST(VirtioMmioCmdline, CollectsEveryDeviceWordInOrder) {
    auto list = parse_mmio_devices(
        "console=ttyS0 virtio_mmio.device=4K@0xd0000000:5 quiet "
        "virtio_mmio.device=4K@0xd0001000:6 virtio_mmio.devices=4K@0xd0002000:7 "
        "virtio_mmio.device");
    ASSERT_EQ(list.count, 2u);
    EXPECT_EQ(list.devices()[0].base, 0xd0000000u);
    EXPECT_EQ(list.devices()[1].irq, 6u);
    // A bare `virtio_mmio.device` has an empty value: malformed.
    EXPECT_EQ(list.rejected, 1u);
    EXPECT_EQ(list.first_rejected, "");
    EXPECT_EQ(list.dropped, 0u);
}

TEST(VirtioMmioCmdline, ReportsTheFirstRejectedWordAndKeepsTheGoodOnes) {
    auto list = parse_mmio_devices(
        "virtio_mmio.device=4K@zz:5 virtio_mmio.device=512@0xfeb02e00:12 "
        "virtio_mmio.device=0@0x1000:1");
    ASSERT_EQ(list.count, 1u);
    EXPECT_EQ(list.devices()[0].base, 0xfeb02e00u);
    EXPECT_EQ(list.rejected, 2u);
    EXPECT_EQ(list.first_rejected, "4K@zz:5");
    EXPECT_EQ(list.first_error, Errno::Inval);
}

TEST(VirtioMmioCmdline, RejectsOverlappingWindows) {
    auto list = parse_mmio_devices(
        "virtio_mmio.device=4K@0xd0000000:5 virtio_mmio.device=512@0xd0000e00:6 "
        "virtio_mmio.device=512@0xd0001000:7 virtio_mmio.device=4K@0xd0000000:8");
    ASSERT_EQ(list.count, 2u);
    EXPECT_EQ(list.devices()[1].base, 0xd0001000u) << "adjacent windows are fine";
    EXPECT_EQ(list.rejected, 2u);
    EXPECT_EQ(list.first_rejected, "512@0xd0000e00:6");
    EXPECT_EQ(list.first_error, Errno::Exist);
}

TEST(VirtioMmioCmdline, DropsDevicesBeyondCapacity) {
    std::string line;
    size_t total = lib::virtio::kMaxMmioDevices + 3;
    for (size_t i = 0; i < total; ++i)
        line += "virtio_mmio.device=512@" + std::to_string(0xfeb00000 + i * 512) + ":" +
                std::to_string(5 + i) + " ";
    auto list = parse_mmio_devices(line);
    EXPECT_EQ(list.count, lib::virtio::kMaxMmioDevices);
    EXPECT_EQ(list.dropped, 3u);
    EXPECT_EQ(list.rejected, 0u);
    EXPECT_EQ(list.devices().back().irq, 5 + lib::virtio::kMaxMmioDevices - 1);
}

TEST(VirtioMmioCmdline, NoDevicesIsEmpty) {
    auto list = parse_mmio_devices("console=ttyS0 phx.selftest=none");
    EXPECT_EQ(list.count, 0u);
    EXPECT_EQ(list.rejected, 0u);
    EXPECT_TRUE(list.devices().empty());
}

}  // namespace
