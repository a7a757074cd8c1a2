// Local APIC registers by their xAPIC offsets; in x2APIC mode MSR 0x800 + offset / 16.
#include "kernel/arch/x86_64/apic.h"
#include "kernel/arch/x86_64/irq.h"

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/cpu_features.h"
#include "kernel/debug/panic.h"
#include "kernel/mm/page_table.h"
#include "kernel/time/clock.h"

namespace kernel::arch {

namespace {

constexpr uint32_t kMsrApicBase = 0x1b;
constexpr uint64_t kApicBaseEnable = 1 << 11, kApicBaseX2 = 1 << 10;
constexpr uint64_t kApicBaseMask = 0x000f'ffff'ffff'f000;
constexpr uint32_t kMsrTscDeadline = 0x6e0;

constexpr uint32_t kRegEoi = 0xb0, kRegSpurious = 0xf0, kRegLvtTimer = 0x320;
constexpr uint32_t kRegInitialCount = 0x380, kRegCurrentCount = 0x390, kRegDivide = 0x3e0;
constexpr uint32_t kSpuriousEnable = 1 << 8, kSpuriousVector = 0xff;
constexpr uint32_t kLvtMasked = 1 << 16, kLvtTscDeadline = 2 << 17;
constexpr uint32_t kDivideBy1 = 0xb;

enum class Mode { Off, X2apic, Xapic };
Mode g_mode = Mode::Off;
volatile uint32_t* g_registers = nullptr;  // xAPIC page
bool g_deadline_mode = false;
uint64_t g_ticks_per_ms = 0;  // one-shot mode: APIC timer ticks per millisecond

void write_reg(uint32_t offset, uint32_t value) {
    if (g_mode == Mode::X2apic)
        wrmsr(0x800 + offset / 16, value);
    else
        g_registers[offset / 4] = value;
}

uint32_t read_reg(uint32_t offset) {
    if (g_mode == Mode::X2apic) return uint32_t(rdmsr(0x800 + offset / 16));
    return g_registers[offset / 4];
}

// TSC ticks for `ns` nanoseconds (capped at 10 s: the scheduler re-arms long before).
uint64_t tsc_ticks(uint64_t ns) {
    if (ns > 10'000'000'000ull) ns = 10'000'000'000ull;
    return ns * (time::tsc_hz() / 1000) / 1'000'000;
}

}  // namespace

void init_apic() {
    if (g_mode != Mode::Off) return;  // brought up early for device interrupts
    uint64_t base = rdmsr(kMsrApicBase);
    if (cpu().x2apic) {
        wrmsr(kMsrApicBase, base | kApicBaseEnable | kApicBaseX2);
        g_mode = Mode::X2apic;
    } else {
        wrmsr(kMsrApicBase, base | kApicBaseEnable);
        auto mapped = mm::map_mmio(base & kApicBaseMask, 4096);
        if (mapped.is_error()) panic("cannot map the local APIC");
        g_registers = reinterpret_cast<volatile uint32_t*>(mapped.value());
        g_mode = Mode::Xapic;
    }
    write_reg(kRegSpurious, kSpuriousEnable | kSpuriousVector);
    g_deadline_mode = cpu().tsc_deadline;
    if (g_deadline_mode) {
        // Armed by writing the deadline MSR (0 disarms); the LVT stays as set here.
        wrmsr(kMsrTscDeadline, 0);
        write_reg(kRegLvtTimer, kLvtTscDeadline | kVectorTimer);
        return;
    }
    // One-shot mode: count the APIC timer's ticks over a millisecond of TSC time.
    write_reg(kRegDivide, kDivideBy1);
    write_reg(kRegLvtTimer, kLvtMasked | kVectorTimer);
    write_reg(kRegInitialCount, 0xffff'ffff);
    uint64_t start = time::monotonic_ns();
    while (time::monotonic_ns() - start < 1'000'000) pause();
    uint64_t elapsed_ns = time::monotonic_ns() - start;
    uint32_t counted = 0xffff'ffff - read_reg(kRegCurrentCount);
    write_reg(kRegInitialCount, 0);
    g_ticks_per_ms = uint64_t(counted) * 1'000'000 / (elapsed_ns ? elapsed_ns : 1);
    if (g_ticks_per_ms == 0) g_ticks_per_ms = 1;
}

void apic_timer_at(uint64_t deadline_ns) {
    uint64_t now = time::monotonic_ns();
    uint64_t wait = deadline_ns > now ? deadline_ns - now : 0;
    if (g_deadline_mode) {
        wrmsr(kMsrTscDeadline, rdtsc() + tsc_ticks(wait) + 1);
        return;
    }
    uint64_t ticks = wait * g_ticks_per_ms / 1'000'000 + 1;
    if (ticks > 0xffff'ffff) ticks = 0xffff'ffff;
    write_reg(kRegLvtTimer, kVectorTimer);
    write_reg(kRegInitialCount, uint32_t(ticks));
}

void apic_timer_stop() {
    if (g_deadline_mode)
        wrmsr(kMsrTscDeadline, 0);
    else
        write_reg(kRegInitialCount, 0);
}

void apic_eoi() { write_reg(kRegEoi, 0); }

uint32_t apic_id() {
    constexpr uint32_t kRegId = 0x20;
    if (g_mode == Mode::X2apic) return read_reg(kRegId);  // the whole 32-bit x2APIC ID
    return read_reg(kRegId) >> 24;
}

const char* apic_mode_name() {
    if (g_mode == Mode::Off) return "none";
    if (g_mode == Mode::X2apic) return g_deadline_mode ? "x2APIC, TSC deadline" : "x2APIC, one-shot";
    return g_deadline_mode ? "xAPIC, TSC deadline" : "xAPIC, one-shot";
}

}  // namespace kernel::arch
