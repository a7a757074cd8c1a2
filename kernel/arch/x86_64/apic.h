// The local APIC: its timer drives the scheduler (TSC-deadline mode where the CPU has it,
// one-shot mode calibrated against the TSC otherwise), reached through x2APIC MSRs or,
// without x2APIC, its xAPIC register page.
#pragma once

#include <cstdint>

namespace kernel::arch {

inline constexpr int kVectorTimer = 0x20;

// Enables the APIC with its timer masked. After the clock is calibrated; once (later calls
// return at once).
void init_apic();
// One timer interrupt at monotonic time `deadline_ns` (or at once if it has passed),
// replacing any armed one.
void apic_timer_at(uint64_t deadline_ns);
void apic_timer_stop();
void apic_eoi();
const char* apic_mode_name();

}  // namespace kernel::arch
