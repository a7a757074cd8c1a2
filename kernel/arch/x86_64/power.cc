// The status channel (QEMU isa-debugcon at 0x402) and exit port (isa-debug-exit at 0xf4).
#include "kernel/arch/x86_64/power.h"

#include "kernel/arch/x86_64/cpu.h"
#include "lib/base/format.h"

namespace kernel::arch {

namespace {

constexpr uint16_t kStatusPort = 0x402;
constexpr uint16_t kExitPort = 0xf4;
constexpr uint32_t kPanicWord = 0x100;

}  // namespace

void status_line(const char* line) {
    outsb(kStatusPort, line, __builtin_strlen(line));  // one exit per line, not per byte
    outb(kStatusPort, '\n');
}

void power_off(uint8_t status) {
    char line[16];
    lib::format_buffer(line, sizeof(line), "exit {}", status);
    status_line(line);
    outl(kExitPort, status);
    halt_forever();  // no exit device: stop here
}

void reset() {
    cli();
    constexpr uint16_t kI8042Command = 0x64;
    constexpr uint8_t kPulseResetLine = 0xfe;
    outb(kI8042Command, kPulseResetLine);
    // No i8042 (QEMU microvm, some clouds): an empty IDT turns the next exception into a
    // triple fault, which resets the CPU.
    struct [[gnu::packed]] {
        uint16_t limit;
        uint64_t base;
    } empty{0, 0};
    asm volatile("lidt %0; int3" ::"m"(empty));
    halt_forever();
}

void power_off_panic() {
    status_line("panic");
    outl(kExitPort, kPanicWord);
    halt_forever();
}

}  // namespace kernel::arch
