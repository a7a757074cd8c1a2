// Process bookkeeping and the program's end.
#include "kernel/proc/process.h"

#include "kernel/arch/x86_64/percpu.h"
#include "kernel/arch/x86_64/power.h"
#include "kernel/debug/panic.h"

namespace kernel::proc {

Process::Process(mm::AddressSpace* space, std::string_view exe_path) : m_space(space) {
    m_exe_length = exe_path.size() < kMaxPathLength ? exe_path.size() : kMaxPathLength;
    for (size_t i = 0; i < m_exe_length; ++i) m_exe_path[i] = exe_path[i];
}

Process::~Process() { delete m_space; }

Process& current() {
    Process* process = arch::this_cpu().process;
    if (!process) panic("no current process");
    return *process;
}

bool has_current() { return arch::this_cpu().process != nullptr; }

void set_current(Process* process) { arch::this_cpu().process = process; }

void exit_program(int status) {
    // FIXME(#7): RebootOnExit decides between power-off and reboot here.
    arch::power_off(uint8_t(status & 0xff));
}

}  // namespace kernel::proc
