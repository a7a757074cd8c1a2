// Panic and the kernel backtrace (frame-pointer walk, symbolized from .ksyms).
#include "kernel/debug/panic.h"

#include "kernel/arch/x86_64/cpu.h"
#include "kernel/arch/x86_64/layout.h"
#include "kernel/arch/x86_64/power.h"
#include "kernel/debug/ksyms.h"
#include "kernel/proc/lifecycle.h"

extern "C" char kernel_text_start[], kernel_text_end[];

namespace kernel::debug {

namespace {

bool g_panicking = false;

bool in_kernel_text(uint64_t address) {
    return address >= reinterpret_cast<uint64_t>(kernel_text_start) &&
           address < reinterpret_cast<uint64_t>(kernel_text_end);
}

bool plausible_frame(uint64_t rbp) {
    return rbp >= arch::kPhysmapBase && (rbp & 7) == 0 && rbp < ~uint64_t(16);
}

}  // namespace

void print_backtrace(uint64_t rbp, uint64_t rip) {
    kprint("backtrace:\n");
    kprint("  {:#018x} {}\n", rip, symbolize(rip));
    // FIXME(#5): check each frame against the current stack's bounds, not a plausibility test.
    for (int depth = 0; depth < 32 && plausible_frame(rbp); ++depth) {
        auto* frame = reinterpret_cast<const uint64_t*>(rbp);
        uint64_t return_address = frame[1];
        if (!in_kernel_text(return_address)) break;
        kprint("  {:#018x} {}\n", return_address, symbolize(return_address - 1));
        rbp = frame[0];
    }
}

void panic_stop() {
    arch::cli();
    if (!g_panicking) {
        g_panicking = true;
        print_backtrace(reinterpret_cast<uint64_t>(__builtin_frame_address(0)),
                        reinterpret_cast<uint64_t>(__builtin_return_address(0)));
    }
    proc::end_after_panic();
}

}  // namespace kernel::debug
