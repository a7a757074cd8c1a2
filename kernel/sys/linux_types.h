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
