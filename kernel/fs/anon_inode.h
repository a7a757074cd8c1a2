// The stat of files that have no node in any mounted filesystem: pipes (Linux's pipefs) and
// eventfd, timerfd and epoll descriptions (anon_inodefs).
#pragma once

#include <cstdint>

namespace kernel::sys {
struct LinuxStat;
}

namespace kernel::fs {

// A pipe: S_IFIFO | 0600, inode `ino` ("pipe:[ino]"), times `created_ns` (realtime).
void pipe_stat(sys::LinuxStat& out, uint64_t ino, uint64_t created_ns);
// An anon_inodefs file: mode 0600 and no type bits, the one inode they all share, as on Linux.
void anon_inode_stat(sys::LinuxStat& out);
// A fresh inode number for a pipe.
uint64_t next_pipe_ino();

}  // namespace kernel::fs
