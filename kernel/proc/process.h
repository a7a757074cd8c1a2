// The one program a Phoenix VM runs: its address space, files, identity and settings from the
// manifest. (Threads join it in the scheduling issue.)
#pragma once

#include <cstdint>
#include <string_view>

#include "kernel/mm/address_space.h"
#include "kernel/proc/fd_table.h"

namespace kernel::fs {
class Inode;
}

namespace kernel::proc {

// Debug flags from the manifest, named after OPS's Debugflags.
struct DebugSettings {
    bool trace_syscalls = false;  // "trace" (also "debugsyscalls")
    bool trace_faults = false;    // "fault"
};

class Process {
public:
    static constexpr size_t kMaxPathLength = 255;

    Process(mm::AddressSpace* space, std::string_view exe_path);
    ~Process();

    mm::AddressSpace& address_space() { return *m_space; }
    FdTable& fds() { return m_fds; }
    std::string_view exe_path() const { return {m_exe_path, m_exe_length}; }
    DebugSettings& debug() { return m_debug; }
    int pid() const { return 1; }

    // brk: [m_brk_start, m_brk) is the heap.
    void init_brk(uint64_t start) { m_brk_start = m_brk = start; }
    uint64_t brk() const { return m_brk; }
    uint64_t brk_start() const { return m_brk_start; }
    void set_brk(uint64_t value) { m_brk = value; }

    uint64_t clear_child_tid = 0;
    uint64_t robust_list_head = 0;

    // The working directory: its inode (nullptr until the root is mounted: then "/") and
    // its absolute, normalized path for getcwd.
    fs::Inode* cwd() const { return m_cwd; }
    std::string_view cwd_path() const { return {m_cwd_path, m_cwd_length}; }
    // Takes over a reference to `inode`; `path` is absolute and normalized.
    void set_cwd(fs::Inode* inode, std::string_view path);
    uint32_t umask = 022;

private:
    mm::AddressSpace* m_space;
    FdTable m_fds;
    char m_exe_path[kMaxPathLength + 1] = {};
    size_t m_exe_length = 0;
    DebugSettings m_debug;
    uint64_t m_brk_start = 0;
    uint64_t m_brk = 0;
    fs::Inode* m_cwd = nullptr;
    char m_cwd_path[4096] = "/";
    size_t m_cwd_length = 1;
};

// The running program. Only valid once start_program() has created it.
Process& current();
bool has_current();
void set_current(Process* process);

// Ends the program: exit status to the runner, VM powered off.
[[noreturn]] void exit_program(int status);

}  // namespace kernel::proc
