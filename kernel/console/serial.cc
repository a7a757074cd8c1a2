// COM1 16550 driver, polled. Output converts "\n" to "\r\n" as a tty's ONLCR would, and goes
// out up to 16 bytes per `rep outsb` once the transmit FIFO is on: under KVM a string I/O is
// one VM exit for all its bytes, where byte by byte costs two (the LSR poll and the write).
#include "kernel/console/serial.h"

#include "kernel/arch/x86_64/cpu.h"

namespace kernel::console {

namespace {

constexpr uint16_t kCom1 = 0x3f8;
constexpr uint16_t kData = 0, kInterruptEnable = 1, kFifoControl = 2, kLineControl = 3,
                   kModemControl = 4, kLineStatus = 5;
constexpr uint16_t kInterruptId = kFifoControl;  // read side
constexpr uint8_t kLineStatusDataReady = 0x01, kLineStatusTxEmpty = 0x20;
constexpr uint8_t kFifoEnable = 0x01;
constexpr uint8_t kInterruptIdFifos = 0xc0;  // both bits: a 16550A with its FIFOs on
constexpr size_t kFifoBytes = 16;

// How many bytes one wait for an empty transmitter may send: 16 with the FIFO on, else 1.
size_t g_burst = 1;

// Writes `count` bytes (at most g_burst) once the transmitter is empty.
void put(const char* bytes, size_t count) {
    // Bounded wait: a missing UART must not hang the kernel.
    for (int i = 0; i < 100000 && !(arch::inb(kCom1 + kLineStatus) & kLineStatusTxEmpty); ++i)
        arch::pause();
    if (count == 1) {
        arch::outb(kCom1 + kData, uint8_t(bytes[0]));
        return;
    }
    arch::outsb(kCom1 + kData, bytes, count);
}

}  // namespace

void init_serial() {
    arch::outb(kCom1 + kInterruptEnable, 0x00);
    arch::outb(kCom1 + kLineControl, 0x80);  // DLAB: set the divisor
    arch::outb(kCom1 + kData, 0x01);         // 115200 baud
    arch::outb(kCom1 + kInterruptEnable, 0x00);
    arch::outb(kCom1 + kLineControl, 0x03);   // 8N1
    arch::outb(kCom1 + kModemControl, 0x03);  // DTR, RTS
    // The FIFO goes on only while nothing has been received: switching it on discards input
    // already there (QEMU's UART then holds the first byte of a piped stdin), so with input
    // waiting the console stays byte by byte. Without a 16550A's FIFO (IIR says) likewise.
    if (arch::inb(kCom1 + kLineStatus) & kLineStatusDataReady) return;
    arch::outb(kCom1 + kFifoControl, kFifoEnable);
    if ((arch::inb(kCom1 + kInterruptId) & kInterruptIdFifos) == kInterruptIdFifos)
        g_burst = kFifoBytes;
}

void serial_write(std::string_view text) {
    char chunk[kFifoBytes];
    size_t length = 0;
    for (char c : text) {
        if (c == '\n') {
            chunk[length++] = '\r';
            if (length == g_burst) {
                put(chunk, length);
                length = 0;
            }
        }
        chunk[length++] = c;
        if (length == g_burst) {
            put(chunk, length);
            length = 0;
        }
    }
    if (length) put(chunk, length);
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
