// Stats of pipes and anon_inodefs files. The device numbers are what Linux's pseudo
// filesystems usually get (pipefs 0:12, anon_inodefs 0:13); nothing depends on them beyond
// being stable and distinct from the mounted filesystems'.
#include "kernel/fs/anon_inode.h"

#include "kernel/sys/linux_types.h"

namespace kernel::fs {

namespace {

constexpr uint64_t kPipefsDev = 12, kAnonInodefsDev = 13;
constexpr uint32_t kSIfifo = 0010000, kUserReadWrite = 0600;
constexpr uint64_t kAnonIno = 1;
uint64_t g_next_pipe_ino = 1000;

}  // namespace

void pipe_stat(sys::LinuxStat& out, uint64_t ino, uint64_t created_ns) {
    out = {};
    out.dev = kPipefsDev;
    out.ino = ino;
    out.nlink = 1;
    out.mode = kSIfifo | kUserReadWrite;
    out.blksize = 4096;
    uint64_t seconds = created_ns / 1000000000, nanoseconds = created_ns % 1000000000;
    out.atime = out.mtime = out.ctime = seconds;
    out.atime_nsec = out.mtime_nsec = out.ctime_nsec = nanoseconds;
}

void anon_inode_stat(sys::LinuxStat& out) {
    out = {};
    out.dev = kAnonInodefsDev;
    out.ino = kAnonIno;
    out.nlink = 1;
    out.mode = kUserReadWrite;
    out.blksize = 4096;
}

uint64_t next_pipe_ino() { return g_next_pipe_ino++; }

}  // namespace kernel::fs
