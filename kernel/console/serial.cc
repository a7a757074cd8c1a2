// COM1 16550 driver, polled. Output converts "\n" to "\r\n" as a tty's ONLCR would.
#include "kernel/console/serial.h"

#include "kernel/arch/x86_64/cpu.h"

namespace kernel::console {

namespace {

constexpr uint16_t kCom1 = 0x3f8;
constexpr uint16_t kData = 0, kInterruptEnable = 1, kLineControl = 3,
                   kModemControl = 4, kLineStatus = 5;
constexpr uint8_t kLineStatusDataReady = 0x01, kLineStatusTxEmpty = 0x20;

void put(char c) {
    // Bounded wait: a missing UART must not hang the kernel.
    for (int i = 0; i < 100000 && !(arch::inb(kCom1 + kLineStatus) & kLineStatusTxEmpty); ++i)
        arch::pause();
    arch::outb(kCom1 + kData, uint8_t(c));
}

}  // namespace

void init_serial() {
    arch::outb(kCom1 + kInterruptEnable, 0x00);
    arch::outb(kCom1 + kLineControl, 0x80);  // DLAB: set the divisor
    arch::outb(kCom1 + kData, 0x01);         // 115200 baud
    arch::outb(kCom1 + kInterruptEnable, 0x00);
    arch::outb(kCom1 + kLineControl, 0x03);  // 8N1
    // The FIFO control register is left alone: enabling or clearing the FIFO discards input
    // already received (QEMU's UART holds the first byte of a piped stdin by now), and a
    // polling console gains nothing from the FIFO.
    arch::outb(kCom1 + kModemControl, 0x03);  // DTR, RTS
}

void serial_write(std::string_view text) {
    for (char c : text) {
        if (c == '\n') put('\r');
        put(c);
    }
}

bool serial_input_ready() { return arch::inb(kCom1 + kLineStatus) & kLineStatusDataReady; }

size_t serial_read(char* buffer, size_t capacity) {
    size_t n = 0;
    while (n == 0 && capacity > 0) {
        while (n < capacity && (arch::inb(kCom1 + kLineStatus) & kLineStatusDataReady))
            buffer[n++] = char(arch::inb(kCom1 + kData));
        if (n == 0) arch::pause();  // FIXME(#5): block on the UART interrupt instead
    }
    return n;
}

}  // namespace kernel::console
