// Linux x86-64 user ABI structures and constants the syscalls exchange (layouts from the
// kernel's uapi headers; sizes asserted).
#pragma once

#include <cstdint>

namespace kernel::sys {

struct IoVec {
    uint64_t base;
    uint64_t length;
};

struct TimeSpec {
    int64_t seconds;
    int64_t nanoseconds;
};

struct TimeVal {
    int64_t seconds;
    int64_t microseconds;
};

struct RLimit {
    uint64_t current;
    uint64_t maximum;
};

struct LinuxStat {
    uint64_t dev;
    uint64_t ino;
    uint64_t nlink;
    uint32_t mode;
    uint32_t uid;
    uint32_t gid;
    uint32_t pad0;
    uint64_t rdev;
    int64_t size;
    int64_t blksize;
    int64_t blocks;
    uint64_t atime, atime_nsec, mtime, mtime_nsec, ctime, ctime_nsec;
    int64_t unused[3];
};
static_assert(sizeof(LinuxStat) == 144);

// struct statx (include/uapi/linux/stat.h).
struct StatxTimestamp {
    int64_t sec;
    uint32_t nsec;
    int32_t reserved;
};
struct Statx {
    uint32_t mask;
    uint32_t blksize;
    uint64_t attributes;
    uint32_t nlink;
    uint32_t uid;
    uint32_t gid;
    uint16_t mode;
    uint16_t spare0;
    uint64_t ino;
    uint64_t size;
    uint64_t blocks;
    uint64_t attributes_mask;
    StatxTimestamp atime, btime, ctime, mtime;
    uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
    uint64_t mnt_id;
    uint32_t dio_mem_align, dio_offset_align;
    uint64_t spare3[12];
};
static_assert(sizeof(Statx) == 256);
inline constexpr uint32_t kStatxBasicStats = 0x7ff;

struct PollFd {
    int32_t fd;
    int16_t events;
    int16_t revents;
};
inline constexpr int16_t kPollIn = 0x001, kPollOut = 0x004, kPollErr = 0x008, kPollHup = 0x010,
                         kPollNval = 0x020, kPollRdNorm = 0x040, kPollWrNorm = 0x100;

// struct statfs (asm-generic/statfs.h, x86-64: every field 8 bytes but f_fsid).
struct LinuxStatfs {
    int64_t type;
    int64_t bsize;
    uint64_t blocks, bfree, bavail, files, ffree;
    int32_t fsid[2];
    int64_t namelen;
    int64_t frsize;
    int64_t flags;
    int64_t spare[4];
};
static_assert(sizeof(LinuxStatfs) == 120);

struct UtimBuf {
    int64_t actime;
    int64_t modtime;
};

struct UtsName {
    char sysname[65];
    char nodename[65];
    char release[65];
    char version[65];
    char machine[65];
    char domainname[65];
};

struct WinSize {
    uint16_t rows, cols, xpixel, ypixel;
};

struct Termios {
    uint32_t iflag, oflag, cflag, lflag;
    uint8_t line;
    uint8_t cc[19];
};
static_assert(sizeof(Termios) == 36);

struct SigAction {
    uint64_t handler;
    uint64_t flags;
    uint64_t restorer;
    uint64_t mask;
};

inline constexpr int kAtFdCwd = -100;
inline constexpr int kAtEmptyPath = 0x1000;
inline constexpr uint32_t kSIfChr = 0020000;
inline constexpr uint32_t kSIfReg = 0100000;

}  // namespace kernel::sys
