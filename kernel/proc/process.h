// The one program a Phoenix VM runs: its address space, files, identity and settings from the
// manifest. (Threads join it in the scheduling issue.)
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "kernel/mm/address_space.h"
#include "kernel/proc/fd_table.h"
#include "kernel/proc/lifecycle.h"  // exit_program
#include "lib/elf/initial_stack.h"

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


    // The working directory: its inode (nullptr until the root is mounted: then "/") and
    // its absolute, normalized path for getcwd.
    fs::Inode* cwd() const { return m_cwd; }
    std::string_view cwd_path() const { return {m_cwd_path, m_cwd_length}; }
    // Takes over a reference to `inode`; `path` is absolute and normalized.
    void set_cwd(fs::Inode* inode, std::string_view path);
    uint32_t umask = 022;

    // When the process was made (monotonic ns): /proc/self/stat's starttime.
    uint64_t start_ns() const { return m_start_ns; }

    // The initial stack the loader built (`stack` is its bytes from `sp` up): where the
    // strings of argv and of the environment lie in user memory (/proc/self/cmdline and
    // environ read them there, as Linux does, so a program rewriting its argv is seen doing
    // so), and a copy of the auxiliary vector (/proc/self/auxv), AT_NULL included.
    struct StackStrings {
        uint64_t sp = 0;  // where argc is: the stack's start for /proc/self/stat
        uint64_t arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;
    };
    void record_initial_stack(std::span<const std::byte> stack, uint64_t sp);
    const StackStrings& stack_strings() const { return m_strings; }
    std::span<const lib::elf::AuxEntry> auxv() const { return {m_auxv, m_auxv_count}; }

    // Names of mapped files for /proc/self/maps. The VM area of a mapping carries a tag
    // naming the file (an entry of a table here, one per file) and its offset; a split keeps
    // the tag, and the offset of each piece follows from its address. 0 when the table is
    // full or the file has no name: the area then shows none.
    // `inode` may be null (a program from the manifest): st_dev and st_ino then show as 0.
    uint64_t file_tag(const fs::Inode* inode, std::string_view path, uint64_t address,
                      uint64_t file_page);
    struct MappedFile {
        uint64_t dev, ino, offset;
        std::string_view path;
    };
    // The file an area maps, from its tag; false for areas without one.
    bool mapped_file(const lib::vm::VmArea& area, MappedFile& out) const;
    // Areas that fault their pages in from the file (private mappings, a program's segments,
    // shared mappings past EOF) need the inode while they exist: this keeps a reference in the
    // tag's table entry and returns the tag marked as backed by it (what mapped_inode wants).
    // A zero tag (no name) stays zero: such a mapping must be filled at once.
    uint64_t backed_tag(uint64_t tag, fs::Inode& inode);
    // After backed areas went away: drops the inodes no area needs any more.
    void drop_unmapped_inodes();
    // The kept inode of a backed area and the file page holding `address`; nullptr when the
    // area's tag is not backed.
    fs::Inode* mapped_inode(const lib::vm::VmArea& area, uint64_t address, uint64_t& file_page) const;

    // The files the loader mapped (the program, its interpreter) and the bytes it parsed
    // them from (a view of the page cache, or the manifest's copy of the program: dev and
    // ino 0), for symbolizing a crash without viewing them again. Up to kMaxLoadedImages.
    struct LoadedImage {
        uint64_t dev = 0, ino = 0;
        std::span<const std::byte> bytes;
    };
    static constexpr size_t kMaxLoadedImages = 2;
    void add_loaded_image(const fs::Inode* inode, std::span<const std::byte> bytes);
    std::span<const LoadedImage> loaded_images() const { return {m_loaded, m_loaded_count}; }

    // The boot of this run the runner counts (phx.boot=N on the kernel command line, from
    // 1); 0 when it did not say.
    uint64_t boot_number() const { return m_boot_number; }
    void set_boot_number(uint64_t number) { m_boot_number = number; }

private:
    static constexpr size_t kMaxAux = 48;
    static constexpr size_t kMaxMappedFiles = 256;
    struct FileName {
        uint64_t dev, ino;
        char* path;
        size_t length;
        fs::Inode* inode;  // a reference while a backed area needs it, else nullptr
    };

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
    uint64_t m_start_ns;
    StackStrings m_strings;
    lib::elf::AuxEntry m_auxv[kMaxAux] = {};
    size_t m_auxv_count = 0;
    FileName m_file_names[kMaxMappedFiles] = {};
    size_t m_file_name_count = 0;
    size_t m_last_file_name = 0;  // ld.so maps one file several times in a row
    LoadedImage m_loaded[kMaxLoadedImages];
    size_t m_loaded_count = 0;
    uint64_t m_boot_number = 0;
};

// The running program. Only valid once start_program() has created it.
Process& current();
bool has_current();
void set_current(Process* process);

}  // namespace kernel::proc
