// The syscall table (generated from syscalls.def) and the entry point called by
// syscall_entry.S. Unknown or unimplemented numbers return ENOSYS and are logged once each;
// with the "trace" debug flag every call is logged with its result.
#include "kernel/sys/dispatch.h"

#include "kernel/console/log.h"
#include "kernel/proc/process.h"
#include "kernel/sched/scheduler.h"
#include "kernel/sys/handlers.h"

namespace kernel::sys {

namespace {

using Handler = int64_t (*)(const arch::TrapFrame&);

struct Entry {
    Handler handler;
    const char* name;
};

constexpr size_t kTableSize = 512;

constexpr auto build_table() {
    struct Table {
        Entry entries[kTableSize] = {};
    } table;
#define SYSCALL(nr, name) table.entries[nr] = {&invoke<&sys_##name>, #name};
#define NOSYS(nr, name) table.entries[nr] = {nullptr, #name};
#include "kernel/sys/syscalls.def"
#undef SYSCALL
#undef NOSYS
    return table;
}

constexpr auto kTable = build_table();

uint64_t g_reported[kTableSize / 64 + 1];  // the last word stands for out-of-range numbers

bool first_report(uint64_t number) {
    uint64_t slot = number < kTableSize ? number : kTableSize;
    uint64_t bit = 1ull << (slot % 64);
    bool first = !(g_reported[slot / 64] & bit);
    g_reported[slot / 64] |= bit;
    return first;
}

}  // namespace

const char* syscall_name(uint64_t number) {
    return number < kTableSize ? kTable.entries[number].name : nullptr;
}

}  // namespace kernel::sys

extern "C" void syscall_dispatch(kernel::arch::TrapFrame* frame) {
    using namespace kernel::sys;
    uint64_t number = frame->rax;
    kernel::sched::current().frame = frame;
    kernel::sched::current().syscall_nr = int64_t(number);
    const Entry* entry = number < kTableSize ? &kTable.entries[number] : nullptr;
    bool trace = kernel::proc::current().debug().trace_syscalls;
    int64_t result;
    if (entry && entry->handler) {
        result = entry->handler(*frame);
    } else {
        result = -int64_t(lib::Errno::NoSys);
        if (first_report(number) || trace) {
            if (entry && entry->name)
                kernel::klog("syscall {} ({}) is not implemented: ENOSYS", entry->name, number);
            else
                kernel::klog("unknown syscall {}: ENOSYS", number);
        }
    }
    if (trace && entry && entry->handler)
        kernel::klog("syscall {}({:#x}, {:#x}, {:#x}, {:#x}) = {}", entry->name, frame->rdi,
                     frame->rsi, frame->rdx, frame->r10, result);
    frame->rax = uint64_t(result);
    kernel::sched::return_to_user_point(*frame);
}
