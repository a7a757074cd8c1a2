// The generators behind /proc's files, shared by the table (procfs.cc) and the files that
// implement them: procfs_process.cc (pid 1) and procfs_system.cc (the machine).
#pragma once

#include <cstdint>

#include "kernel/fs/snapshot_file.h"

namespace kernel::fs::procfs {

// --- the process (procfs_process.cc) ---
void status(TextSink& out, uint64_t);
void stat(TextSink& out, uint64_t);
void statm(TextSink& out, uint64_t);
void maps(TextSink& out, uint64_t);
void cmdline(TextSink& out, uint64_t);
void environ(TextSink& out, uint64_t);
void comm(TextSink& out, uint64_t);
void limits(TextSink& out, uint64_t);
void auxv(TextSink& out, uint64_t);
// The program's name as Linux keeps it: the executable's base name, at most 15 bytes.
std::string_view command_name();

// --- the machine (procfs_system.cc) ---
void cpuinfo(TextSink& out, uint64_t);
void meminfo(TextSink& out, uint64_t);
void system_stat(TextSink& out, uint64_t);
void uptime(TextSink& out, uint64_t);
void loadavg(TextSink& out, uint64_t);
void boot_id(TextSink& out, uint64_t);
void random_uuid(TextSink& out, uint64_t);
void threads_max(TextSink& out, uint64_t);

}  // namespace kernel::fs::procfs
