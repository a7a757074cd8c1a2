// What happens when the program faults and has no handler (signal handlers arrive with the
// signals issue): a crash report on the console, then exit with 128 + signal, as Linux's
// default action plus a shell would report it.
#pragma once

#include <cstdint>

#include "kernel/arch/x86_64/trap_frame.h"

namespace kernel::proc {

inline constexpr int kSigIll = 4;
inline constexpr int kSigTrap = 5;
inline constexpr int kSigAbrt = 6;
inline constexpr int kSigBus = 7;
inline constexpr int kSigFpe = 8;
inline constexpr int kSigKill = 9;
inline constexpr int kSigSegv = 11;

const char* signal_name(int signal);

[[noreturn]] void crash(const arch::TrapFrame& frame, int signal, uint64_t fault_address);

// The program could not get memory it was entitled to touch (no free frames).
[[noreturn]] void out_of_memory(uint64_t address);

}  // namespace kernel::proc
