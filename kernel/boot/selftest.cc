// The selftests: each breaks one kernel invariant on purpose and expects the panic report.
//   kernel-fault    a ring-0 page fault (registers, fault address, symbolized backtrace)
//   panic           panic("selftest panic")
//   write-text      a write to kernel text (W^X: text is read-only)
//   exec-data       a call into kernel data (W^X: data is never executable)
//   smash-stack     a buffer overflow over the stack canary ("stack smashing detected")
//   stack-overflow  unbounded recursion into the guard page below the boot stack
#include "kernel/boot/selftest.h"

#include "kernel/arch/x86_64/layout.h"
#include "kernel/console/log.h"
#include "kernel/debug/panic.h"
#include "lib/base/cmdline.h"

namespace kernel::boot {

namespace {

// A ret instruction in writable data: executing it must fault (NX).
uint8_t g_data_code[16] = {0xc3};

[[gnu::noinline]] void smash_stack(size_t length) {
    char buffer[16];
    auto* bytes = reinterpret_cast<volatile char*>(buffer);
    for (size_t i = 0; i < length; ++i) bytes[i] = 'A';  // past the end: over the canary
}

volatile uint64_t g_recursion_limit = ~uint64_t(0);  // never reached: the stack ends first

[[gnu::noinline]] uint64_t recurse(uint64_t depth) {
    volatile char frame[256];
    frame[0] = char(depth);
    if (depth >= g_recursion_limit) return 0;
    return recurse(depth + 1) + frame[0];  // not a tail call: every level keeps its frame
}

[[gnu::noinline]] void write_text() {
    auto* text = reinterpret_cast<volatile uint8_t*>(&write_text);
    klog("selftest: writing to kernel text at {:#x}", reinterpret_cast<uint64_t>(text));
    *text = 0xcc;
}

[[gnu::noinline]] void exec_data() {
    klog("selftest: calling kernel data at {:#x}", reinterpret_cast<uint64_t>(g_data_code));
    reinterpret_cast<void (*)()>(reinterpret_cast<uintptr_t>(g_data_code))();
}

}  // namespace

[[gnu::noinline]] void run_selftest(std::string_view cmdline) {
    auto selftest = lib::Cmdline(cmdline).find("phx.selftest");
    if (!selftest) return;
    std::string_view name = selftest->value;
    if (name == "kernel-fault") {
        klog("selftest: faulting in ring 0");
        *reinterpret_cast<volatile uint64_t*>(arch::kUserEnd - 8) = 0;  // unmapped, user half
    } else if (name == "panic") {
        panic("selftest panic");
    } else if (name == "write-text") {
        write_text();
    } else if (name == "exec-data") {
        exec_data();
    } else if (name == "smash-stack") {
        klog("selftest: overflowing a stack buffer");
        smash_stack(32);
    } else if (name == "stack-overflow") {
        klog("selftest: recursing into the boot stack's guard page");
        recurse(0);
    }
    klog("selftest: unknown test '{}' (or it did not fail), ignored", name);
}

}  // namespace kernel::boot
