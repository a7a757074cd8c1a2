// The boot protocol's power ports: the status channel (0x402) assembling lines, the exit port
// (0xf4) turning a write into PowerOff or Panic, and the i8042's reset command (0x64).
#include "vmm/devices/power_ports.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

using vmm::StopKind;
using vmm::StopRequest;

void write_bytes(vmm::PioDevice& device, uint16_t offset, std::string_view text) {
    device.pio_write(offset, std::as_bytes(std::span(text.data(), text.size())));
}

template <typename T>
void write_value(vmm::PioDevice& device, uint16_t offset, T value) {
    device.pio_write(offset, std::as_bytes(std::span(&value, 1)));
}

std::vector<uint8_t> read_bytes(vmm::PioDevice& device, uint16_t offset, size_t size) {
    std::vector<std::byte> data(size, std::byte{0x5a});
    device.pio_read(offset, data);
    std::vector<uint8_t> out;
    for (std::byte b : data) out.push_back(uint8_t(b));
    return out;
}

// The kernel writes the status channel a byte at a time (outb).
void print(vmm::StatusPort& port, std::string_view text) {
    for (char c : text) write_bytes(port, 0, std::string_view(&c, 1));
}

TEST(StatusPort, AssemblesLinesAndKeepsTheLastComplete) {
    vmm::StatusPort port;
    EXPECT_EQ(port.last_line(), "");
    print(port, "exit 3");
    EXPECT_EQ(port.last_line(), "") << "no newline yet";
    print(port, "\n");
    EXPECT_EQ(port.last_line(), "exit 3");
    print(port, "panic\npan");
    EXPECT_EQ(port.last_line(), "panic") << "a partial line does not replace the last one";
    print(port, "ic again\n");
    EXPECT_EQ(port.last_line(), "panic again");
}

TEST(StatusPort, WideWritesCarryOneCharacterPerByte) {
    vmm::StatusPort port;
    write_bytes(port, 0, "ok\nx");  // a 32-bit outl of four characters
    EXPECT_EQ(port.last_line(), "ok");
    write_bytes(port, 0, "y\n");
    EXPECT_EQ(port.last_line(), "xy");
}

TEST(StatusPort, OverlongLinesAreBounded) {
    vmm::StatusPort port;
    print(port, std::string(1000, 'a') + "\n");
    EXPECT_EQ(port.last_line(), std::string(128, 'a'));
    print(port, "exit 0\n");
    EXPECT_EQ(port.last_line(), "exit 0") << "the next line starts fresh";
}

TEST(StatusPort, IgnoresOtherOffsetsAndReadsAllOnes) {
    vmm::StatusPort port;
    write_bytes(port, 1, "exit 9\n");
    EXPECT_EQ(port.last_line(), "");
    EXPECT_EQ(read_bytes(port, 0, 4), (std::vector<uint8_t>{0xff, 0xff, 0xff, 0xff}));
}

TEST(ExitPort, DwordWritePowersOffWithThatStatus) {
    for (uint32_t status : {0u, 1u, 42u, 255u}) {
        StopRequest stop;
        vmm::ExitPort port(stop);
        write_value<uint32_t>(port, 0, status);
        EXPECT_EQ(stop.kind, StopKind::PowerOff) << status;
        EXPECT_EQ(stop.status, int(status));
        EXPECT_STREQ(stop.reason, "power off");
    }
}

TEST(ExitPort, PanicValue) {
    StopRequest stop;
    vmm::ExitPort port(stop);
    write_value<uint32_t>(port, 0, 0x100);
    EXPECT_EQ(stop.kind, StopKind::Panic);
    EXPECT_EQ(stop.status, 0);
    EXPECT_STREQ(stop.reason, "kernel panic");
}

TEST(ExitPort, ValuesAboveAByteKeepTheLowByte) {
    StopRequest stop;
    vmm::ExitPort port(stop);
    write_value<uint32_t>(port, 0, 0x12345601);
    EXPECT_EQ(stop.kind, StopKind::PowerOff);
    EXPECT_EQ(stop.status, 1);
}

TEST(ExitPort, OtherAccessSizes) {
    {
        StopRequest stop;
        vmm::ExitPort port(stop);
        write_value<uint8_t>(port, 0, 7);  // outb
        EXPECT_EQ(stop.kind, StopKind::PowerOff);
        EXPECT_EQ(stop.status, 7);
    }
    {
        StopRequest stop;
        vmm::ExitPort port(stop);
        write_value<uint16_t>(port, 0, 0x100);  // outw of the panic value
        EXPECT_EQ(stop.kind, StopKind::Panic);
    }
    {
        StopRequest stop;
        vmm::ExitPort port(stop);
        write_value<uint64_t>(port, 0, 0xffffffff'00000005);  // only the low dword counts
        EXPECT_EQ(stop.kind, StopKind::PowerOff);
        EXPECT_EQ(stop.status, 5);
    }
    {
        StopRequest stop;
        vmm::ExitPort port(stop);
        port.pio_write(0, {});
        EXPECT_EQ(stop.kind, StopKind::None);
    }
}

TEST(ExitPort, OnlyOffsetZeroAndOnlyTheFirstStop) {
    StopRequest stop;
    vmm::ExitPort port(stop);
    for (uint16_t offset = 1; offset < 4; ++offset) write_value<uint8_t>(port, offset, 3);
    EXPECT_EQ(stop.kind, StopKind::None);
    write_value<uint32_t>(port, 0, 4);
    write_value<uint32_t>(port, 0, 0x100);  // a second write does not replace the first
    EXPECT_EQ(stop.kind, StopKind::PowerOff);
    EXPECT_EQ(stop.status, 4);

    StopRequest reset{StopKind::Reset, 0, "i8042 reset"};
    vmm::ExitPort late(reset);
    write_value<uint32_t>(late, 0, 0);
    EXPECT_EQ(reset.kind, StopKind::Reset);
    EXPECT_STREQ(reset.reason, "i8042 reset");
    EXPECT_EQ(read_bytes(port, 0, 4), (std::vector<uint8_t>{0xff, 0xff, 0xff, 0xff}));
}

TEST(I8042, ResetCommand) {
    StopRequest stop;
    vmm::I8042 i8042(stop);
    write_value<uint8_t>(i8042, 4, 0xfe);
    EXPECT_EQ(stop.kind, StopKind::Reset);
    EXPECT_EQ(stop.status, 0);
    EXPECT_STREQ(stop.reason, "i8042 reset");
}

TEST(I8042, OtherCommandsAndPortsDoNothing) {
    StopRequest stop;
    vmm::I8042 i8042(stop);
    write_value<uint8_t>(i8042, 0, 0xfe);  // 0x60 is the data port
    write_value<uint8_t>(i8042, 4, 0xd1);  // write output port
    write_value<uint8_t>(i8042, 4, 0xff);
    write_value<uint8_t>(i8042, 3, 0xfe);
    i8042.pio_write(4, {});
    EXPECT_EQ(stop.kind, StopKind::None);
    write_value<uint16_t>(i8042, 4, 0x00fe);  // a wider write: its first byte is the command
    EXPECT_EQ(stop.kind, StopKind::Reset);
}

TEST(I8042, ResetDoesNotReplaceAnEarlierStop) {
    StopRequest stop{StopKind::PowerOff, 9, "power off"};
    vmm::I8042 i8042(stop);
    write_value<uint8_t>(i8042, 4, 0xfe);
    EXPECT_EQ(stop.kind, StopKind::PowerOff);
    EXPECT_EQ(stop.status, 9);
}

TEST(I8042, ReadsSayReady) {
    StopRequest stop;
    vmm::I8042 i8042(stop);
    // Status: output and input buffers empty, system flag set.
    EXPECT_EQ(read_bytes(i8042, 4, 1), std::vector<uint8_t>{0x04});
    EXPECT_EQ(read_bytes(i8042, 0, 1), std::vector<uint8_t>{0x00});
    EXPECT_EQ(read_bytes(i8042, 4, 2), (std::vector<uint8_t>{0x04, 0x04}));
    EXPECT_EQ(stop.kind, StopKind::None);
}

}  // namespace
