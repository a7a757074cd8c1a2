// Process bookkeeping and the program's end.
#include "kernel/proc/process.h"

#include "kernel/arch/x86_64/percpu.h"
#include "kernel/arch/x86_64/power.h"
#include "kernel/debug/panic.h"
#include "kernel/fs/vfs.h"

namespace kernel::proc {

Process::Process(mm::AddressSpace* space, std::string_view exe_path) : m_space(space) {
    m_exe_length = exe_path.size() < kMaxPathLength ? exe_path.size() : kMaxPathLength;
    for (size_t i = 0; i < m_exe_length; ++i) m_exe_path[i] = exe_path[i];
    m_cwd = fs::root();  // nullptr without a disk
}

Process::~Process() {
    if (m_cwd) m_cwd->release();
    delete m_space;
}

void Process::set_cwd(fs::Inode* inode, std::string_view path) {
    if (m_cwd) m_cwd->release();
    m_cwd = inode;
    m_cwd_length = path.size() < sizeof(m_cwd_path) ? path.size() : sizeof(m_cwd_path) - 1;
    for (size_t i = 0; i < m_cwd_length; ++i) m_cwd_path[i] = path[i];
}

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
