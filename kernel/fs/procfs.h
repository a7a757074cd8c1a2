// /proc and /sys, generated from the kernel's state when a file is opened: the process (pid
// 1, also "self": its exe, cwd, fds, maps, status, stat, cmdline, environ, auxv, limits,
// mounts) and the machine (cpuinfo, meminfo, stat, uptime, sys/kernel...), in the formats
// glibc and language runtimes parse. /sys holds only what glibc reads to count CPUs.
#pragma once

#include "lib/base/result.h"

namespace kernel::fs {

class Inode;

// The root directories (new references).
lib::Result<Inode*> make_procfs_root();
lib::Result<Inode*> make_sysfs_root();

}  // namespace kernel::fs
