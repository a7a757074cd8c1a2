// The 16550 console, driven register by register as a guest driver would: the divisor latch,
// the scratch/line/modem registers, line status, receive from SerialInput, interrupt
// identification and the IRQ line, output buffering, input connection, and odd accesses.
#include "vmm/devices/serial.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace {

using vmm::Serial;
using vmm::SerialInput;

// Register offsets from COM1 (0x3f8) and the values the guest sees.
constexpr uint16_t kData = 0, kIer = 1, kIir = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7;
constexpr uint8_t kDlab = 0x80;
constexpr uint8_t kIirNone = 0x01, kIirThre = 0x02, kIirReceive = 0x04, kIirFifo = 0xc0;
constexpr uint8_t kLsrIdle = 0x60, kLsrDataReady = 0x01;
constexpr size_t kFlushBytes = 4096;      // Serial::kFlushBytes
constexpr size_t kMaxQueued = 64 * 1024;  // SerialInput::kMaxQueued

// Every level the device drives, in order.
class RecordingIrq final : public vmm::IrqLine {
public:
    void set_level(bool high) override { levels.push_back(high); }
    bool high() const { return !levels.empty() && levels.back(); }
    std::vector<bool> levels;
};

uint8_t read_port(Serial& serial, uint16_t offset) {
    std::byte b{0x5a};
    serial.pio_read(offset, std::span(&b, 1));
    return uint8_t(b);
}

void write_port(Serial& serial, uint16_t offset, uint8_t value) {
    std::byte b{value};
    serial.pio_write(offset, std::span(&b, 1));
}

class SerialTest : public ::testing::Test {
protected:
    uint8_t in(uint16_t offset) { return read_port(serial, offset); }
    void out(uint16_t offset, uint8_t value) { write_port(serial, offset, value); }
    void print(const std::string& text) {
        for (char c : text) out(kData, uint8_t(c));
    }
    void push(const std::string& text) { input.push(text.data(), text.size()); }

    std::vector<std::string> flushes;  // each call of the sink
    SerialInput input;
    RecordingIrq irq;
    Serial serial{[this](const char* data, size_t length) { flushes.emplace_back(data, length); },
                  &input, &irq};
};

TEST_F(SerialTest, ResetValues) {
    EXPECT_EQ(in(kIer), 0x00);
    EXPECT_EQ(in(kIir), kIirNone);
    EXPECT_EQ(in(kLcr), 0x00);
    EXPECT_EQ(in(kMcr), 0x00);
    EXPECT_EQ(in(kLsr), kLsrIdle);
    EXPECT_EQ(in(kMsr), 0xb0);  // DCD, DSR, CTS
    EXPECT_EQ(in(kScr), 0x00);
    EXPECT_EQ(in(kData), 0x00);  // nothing to receive
    out(kLcr, kDlab);
    EXPECT_EQ(in(kData), 0x01);  // divisor 1: 115200 baud
    EXPECT_EQ(in(kIer), 0x00);
    EXPECT_TRUE(irq.levels.empty());
}

TEST_F(SerialTest, DivisorLatchIsSeparateFromThrAndIer) {
    push("z");
    out(kLcr, kDlab | 0x03);
    out(kData, 0x0c);  // DLL: 9600 baud
    out(kIer, 0x01);   // DLM, not IER
    EXPECT_TRUE(irq.levels.empty()) << "divisor writes do not touch the IRQ";
    EXPECT_EQ(in(kData), 0x0c);
    EXPECT_EQ(in(kIer), 0x01);
    EXPECT_EQ(in(kIir), kIirNone) << "IIR is not behind DLAB";
    EXPECT_EQ(in(kLcr), kDlab | 0x03);
    EXPECT_EQ(in(kLsr), kLsrIdle | kLsrDataReady) << "reading DLL left the input queued";
    out(kLcr, 0x03);
    EXPECT_EQ(in(kIer), 0x00) << "the DLM write did not enable interrupts";
    EXPECT_EQ(in(kData), 'z');
    serial.flush();
    EXPECT_TRUE(flushes.empty()) << "the DLL write was not transmitted";
    EXPECT_EQ(irq.levels, std::vector<bool>{false}) << "one update, from the RBR read";
    out(kLcr, kDlab);
    EXPECT_EQ(in(kData), 0x0c);
    EXPECT_EQ(in(kIer), 0x01);
}

TEST_F(SerialTest, LineModemAndScratchRegistersRoundTrip) {
    out(kLcr, 0x1b);  // 8 bits, even parity, 1 stop bit
    EXPECT_EQ(in(kLcr), 0x1b);
    out(kLcr, 0x7f);
    EXPECT_EQ(in(kLcr), 0x7f);
    out(kMcr, 0x0b);  // DTR, RTS, OUT2
    EXPECT_EQ(in(kMcr), 0x0b);
    out(kMcr, 0xff);
    EXPECT_EQ(in(kMcr), 0x1f) << "bits 5..7 of MCR are reserved";
    for (unsigned v = 0; v < 256; v += 0x11) {
        out(kScr, uint8_t(v));
        EXPECT_EQ(in(kScr), v);
    }
    out(kIer, 0xf0);
    EXPECT_EQ(in(kIer), 0x00) << "bits 4..7 of IER are reserved";
    EXPECT_EQ(in(kMsr), 0xb0);
}

TEST_F(SerialTest, DataReadyOnlyWhileInputIsQueued) {
    EXPECT_EQ(in(kLsr), kLsrIdle);
    push("ab");
    EXPECT_EQ(in(kLsr), kLsrIdle | kLsrDataReady);
    EXPECT_EQ(in(kData), 'a');
    EXPECT_EQ(in(kLsr), kLsrIdle | kLsrDataReady);
    EXPECT_EQ(in(kData), 'b');
    EXPECT_EQ(in(kLsr), kLsrIdle);
}

TEST_F(SerialTest, ReceiveBufferPopsInputInOrder) {
    push("hello");
    push("!\n");
    std::string got;
    for (int i = 0; i < 7; ++i) got.push_back(char(in(kData)));
    EXPECT_EQ(got, "hello!\n");
    EXPECT_EQ(in(kData), 0x00);
    EXPECT_TRUE(input.empty());
}

TEST_F(SerialTest, ReceivedBytesKeepAllEightBits) {
    push("\xff\x80");
    EXPECT_EQ(in(kData), 0xff);
    EXPECT_EQ(in(kData), 0x80);
}

TEST_F(SerialTest, ThreInterruptRaisedByIerClearedByIirAndThr) {
    out(kIer, 0x02);  // enabling THRE while THR is empty raises it at once
    EXPECT_TRUE(irq.high());
    EXPECT_EQ(in(kIir), kIirThre);
    EXPECT_FALSE(irq.high()) << "reading IIR while it reports THRE clears it";
    EXPECT_EQ(in(kIir), kIirNone);
    out(kData, 'a');  // the byte leaves at once: THR is empty again
    EXPECT_TRUE(irq.high());
    EXPECT_EQ(in(kIir), kIirThre);
    out(kIer, 0x02);  // already enabled: no new interrupt
    EXPECT_EQ(in(kIir), kIirNone);
    out(kData, 'b');
    out(kIer, 0x00);  // disabled: the pending THRE no longer shows
    EXPECT_EQ(in(kIir), kIirNone);
    EXPECT_EQ(irq.levels, (std::vector<bool>{true, false, true, false, false, true, false}));
}

TEST_F(SerialTest, ThrWritesWithThreDisabledRaiseNothing) {
    print("abc");
    EXPECT_EQ(in(kIir), kIirNone);
    EXPECT_EQ(irq.levels, (std::vector<bool>{false, false, false}));
    out(kIer, 0x02);  // the transition still reports the empty THR
    EXPECT_EQ(in(kIir), kIirThre);
}

TEST_F(SerialTest, ReceiveOutranksThre) {
    out(kIer, 0x03);
    push("x");
    EXPECT_EQ(in(kIir), kIirReceive);
    EXPECT_EQ(in(kIir), kIirReceive) << "reading IIR does not clear receive data";
    EXPECT_TRUE(irq.high());
    EXPECT_EQ(in(kData), 'x');
    EXPECT_EQ(in(kIir), kIirThre) << "the THRE interrupt was pending behind receive data";
    EXPECT_EQ(in(kIir), kIirNone);
    EXPECT_FALSE(irq.high());
}

TEST_F(SerialTest, ReceiveInterruptFollowsTheQueue) {
    push("ab");
    EXPECT_TRUE(irq.levels.empty()) << "not connected, and IER is 0";
    EXPECT_EQ(in(kIir), kIirNone) << "receive interrupt not enabled";
    out(kIer, 0x01);
    EXPECT_TRUE(irq.high());
    EXPECT_EQ(in(kIir), kIirReceive);
    EXPECT_EQ(in(kData), 'a');
    EXPECT_TRUE(irq.high());
    EXPECT_EQ(in(kData), 'b');
    EXPECT_FALSE(irq.high());
    EXPECT_EQ(in(kIir), kIirNone);
    out(kIer, 0x00);
    EXPECT_EQ(irq.levels, (std::vector<bool>{true, true, false, false}));
}

TEST_F(SerialTest, InputRaisesTheIrqOnlyWhileConnectedAndEnabled) {
    out(kIer, 0x01);
    irq.levels.clear();
    push("a");
    EXPECT_TRUE(irq.levels.empty()) << "not connected yet";
    EXPECT_EQ(in(kData), 'a');
    irq.levels.clear();

    serial.connect_input();
    push("k");
    EXPECT_EQ(irq.levels, std::vector<bool>{true});
    EXPECT_EQ(in(kData), 'k');
    EXPECT_FALSE(irq.high());

    out(kIer, 0x00);
    irq.levels.clear();
    push("m");
    EXPECT_TRUE(irq.levels.empty()) << "receive interrupt disabled";
    EXPECT_EQ(in(kData), 'm');

    out(kIer, 0x01);
    serial.disconnect_input();
    irq.levels.clear();
    push("n");
    EXPECT_TRUE(irq.levels.empty()) << "disconnected";
    EXPECT_EQ(in(kLsr), kLsrIdle | kLsrDataReady) << "the input stays queued for the next VM";

    serial.connect_input();
    serial.connect_input();  // twice: still one listener, removed by one disconnect
    push("o");
    EXPECT_EQ(irq.levels, std::vector<bool>{true});
    serial.disconnect_input();
    push("p");
    EXPECT_EQ(irq.levels, std::vector<bool>{true});
}

TEST(Serial, ConnectNeedsBothInputAndIrq) {
    SerialInput input;
    RecordingIrq irq;
    Serial no_irq(nullptr, &input, nullptr);
    no_irq.connect_input();
    write_port(no_irq, kIer, 0x03);  // no line to drive: nothing to crash on
    input.push("a", 1);
    EXPECT_EQ(read_port(no_irq, kIir), kIirReceive);
    EXPECT_EQ(read_port(no_irq, kData), 'a');

    Serial no_input(nullptr, nullptr, &irq);
    no_input.connect_input();
    write_port(no_input, kIer, 0x01);
    EXPECT_EQ(read_port(no_input, kLsr), kLsrIdle);
    EXPECT_EQ(read_port(no_input, kData), 0x00);
    EXPECT_EQ(read_port(no_input, kIir), kIirNone);
    EXPECT_EQ(irq.levels, std::vector<bool>{false});
}

TEST(Serial, DestructionDisconnectsTheListener) {
    SerialInput input;
    RecordingIrq irq;
    {
        auto serial = std::make_unique<Serial>(nullptr, &input, &irq);
        write_port(*serial, kIer, 0x01);  // nothing queued: low
        serial->connect_input();
        input.push("a", 1);
        EXPECT_EQ(irq.levels, (std::vector<bool>{false, true}));
    }
    input.push("b", 1);  // ASan would flag a listener still pointing at the dead Serial
    EXPECT_EQ(irq.levels, (std::vector<bool>{false, true}));
}

TEST_F(SerialTest, FifoControlKeepsQueuedInput) {
    // Deliberate: the guest resets the receive FIFO as it boots, and piped stdin queued before
    // that must survive it.
    push("data");
    out(kIir, 0x07);  // FCR: enable, reset both FIFOs
    EXPECT_EQ(in(kIir), kIirFifo | kIirNone);
    EXPECT_EQ(in(kLsr), kLsrIdle | kLsrDataReady);
    EXPECT_EQ(in(kData), 'd');
    out(kIir, 0x06);  // FIFOs off, reset bits again
    EXPECT_EQ(in(kIir), kIirNone);
    std::string rest;
    for (int i = 0; i < 3; ++i) rest.push_back(char(in(kData)));
    EXPECT_EQ(rest, "ata");
}

TEST_F(SerialTest, FifoBitsShowWithPendingInterrupts) {
    out(kIir, 0xc1);  // FCR: enable, 14-byte trigger
    out(kIer, 0x03);
    push("q");
    EXPECT_EQ(in(kIir), kIirFifo | kIirReceive);
    EXPECT_EQ(in(kData), 'q');
    EXPECT_EQ(in(kIir), kIirFifo | kIirThre);
    EXPECT_EQ(in(kIir), kIirFifo | kIirNone);
}

TEST_F(SerialTest, OutputIsFlushedPerLine) {
    print("hi");
    EXPECT_TRUE(flushes.empty());
    print("\nthere\n");
    EXPECT_EQ(flushes, (std::vector<std::string>{"hi\n", "there\n"}));
}

TEST_F(SerialTest, OutputIsFlushedAtFlushBytes) {
    print(std::string(kFlushBytes - 1, 'x'));
    EXPECT_TRUE(flushes.empty());
    out(kData, 'y');
    ASSERT_EQ(flushes.size(), 1u);
    EXPECT_EQ(flushes[0], std::string(kFlushBytes - 1, 'x') + "y");
    print("z");
    EXPECT_EQ(flushes.size(), 1u);
}

TEST_F(SerialTest, FlushWritesWhatIsBuffered) {
    print("abc");
    serial.flush();
    serial.flush();  // nothing left: the sink is not called again
    EXPECT_EQ(flushes, std::vector<std::string>{"abc"});
}

TEST_F(SerialTest, ReadingTheReceiveBufferFlushesAPrompt) {
    print("> ");
    out(kLcr, kDlab);
    in(kData);  // DLL: not a receive
    EXPECT_TRUE(flushes.empty());
    out(kLcr, 0x03);
    in(kData);
    EXPECT_EQ(flushes, std::vector<std::string>{"> "});
}

TEST(Serial, DestructionFlushesAndANullSinkDropsOutput) {
    std::vector<std::string> flushes;
    {
        Serial serial([&](const char* d, size_t n) { flushes.emplace_back(d, n); }, nullptr,
                      nullptr);
        write_port(serial, kData, 'o');
        write_port(serial, kData, 'k');
    }
    EXPECT_EQ(flushes, std::vector<std::string>{"ok"});
    Serial silent(nullptr, nullptr, nullptr);
    write_port(silent, kData, '\n');
    silent.flush();
}

TEST_F(SerialTest, OddOffsetsAndSizes) {
    EXPECT_EQ(in(8), 0xff);
    EXPECT_EQ(in(0xffff), 0xff);
    out(kScr, 0x42);
    std::byte two[2] = {std::byte{0}, std::byte{0}};
    serial.pio_read(kScr, two);  // SCR, then past the device
    EXPECT_EQ(two[0], std::byte{0x42});
    EXPECT_EQ(two[1], std::byte{0xff});

    // A 32-bit write at 0 writes THR, IER, FCR and LCR in turn, as the bus would split it.
    std::byte four[4] = {std::byte{'x'}, std::byte{0x00}, std::byte{0x01}, std::byte{0x03}};
    serial.pio_write(kData, four);
    EXPECT_EQ(in(kIir), kIirFifo | kIirNone);
    EXPECT_EQ(in(kLcr), 0x03);
    serial.flush();
    EXPECT_EQ(flushes, std::vector<std::string>{"x"});

    std::byte status[4];
    serial.pio_read(kLcr, status);  // LCR, MCR, LSR, MSR
    EXPECT_EQ(status[0], std::byte{0x03});
    EXPECT_EQ(status[1], std::byte{0x00});
    EXPECT_EQ(status[2], std::byte{kLsrIdle});
    EXPECT_EQ(status[3], std::byte{0xb0});

    out(kLsr, 0x00);  // read-only
    out(kMsr, 0x00);
    EXPECT_EQ(in(kLsr), kLsrIdle);
    EXPECT_EQ(in(kMsr), 0xb0);

    std::byte past[2] = {std::byte{0x5a}, std::byte{0x77}};
    serial.pio_write(kScr, past);  // the second byte falls off the end
    EXPECT_EQ(in(kScr), 0x5a);
    serial.pio_write(8, past);
    serial.pio_write(0xfffe, past);  // offset + i must not wrap back onto the registers
    EXPECT_EQ(in(kScr), 0x5a);
    EXPECT_EQ(in(kData), 0x00);

    push("r");
    std::byte wide[2];
    serial.pio_read(kData, wide);  // RBR (one byte of input) and IER
    EXPECT_EQ(wide[0], std::byte{'r'});
    EXPECT_EQ(wide[1], std::byte{0x00});
    EXPECT_TRUE(input.empty());
}

TEST(SerialInput, PopsInOrderAndReportsEmpty) {
    SerialInput input;
    char c = '?';
    EXPECT_TRUE(input.empty());
    EXPECT_FALSE(input.pop(c));
    EXPECT_EQ(c, '?');
    input.push("xy", 2);
    EXPECT_FALSE(input.empty());
    ASSERT_TRUE(input.pop(c));
    EXPECT_EQ(c, 'x');
    ASSERT_TRUE(input.pop(c));
    EXPECT_EQ(c, 'y');
    EXPECT_TRUE(input.empty());
}

TEST(SerialInput, BoundedAtItsMaximumQueue) {
    SerialInput input;
    int calls = 0;
    input.set_listener([&] { ++calls; });
    std::string big(kMaxQueued + 100, '\0');
    for (size_t i = 0; i < big.size(); ++i) big[i] = char('a' + i % 26);
    input.push(big.data(), big.size());
    input.push("Z", 1);  // full: dropped
    EXPECT_EQ(calls, 2);
    std::string got;
    char c;
    while (input.pop(c)) got.push_back(c);
    ASSERT_EQ(got.size(), kMaxQueued);
    EXPECT_TRUE(got == big.substr(0, kMaxQueued)) << "the oldest bytes are kept, in order";

    input.push(big.data(), kMaxQueued);
    input.pop(c);
    input.push("Y", 1);  // one slot free again
    input.push("W", 1);
    size_t count = 0;
    char last = 0;
    while (input.pop(c)) {
        ++count;
        last = c;
    }
    EXPECT_EQ(count, kMaxQueued);
    EXPECT_EQ(last, 'Y');
}

TEST(SerialInput, ListenerRemoved) {
    SerialInput input;
    int calls = 0;
    input.set_listener([&] { ++calls; });
    input.push("a", 1);
    input.set_listener(nullptr);
    input.push("b", 1);
    EXPECT_EQ(calls, 1);
}

}  // namespace
