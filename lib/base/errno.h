// Linux errno values as a typed enum. Only the syscall entry turns one into -errno.
#pragma once

namespace lib {

// Values are Linux x86-64's (asm-generic/errno-base.h, errno.h). Names are CamelCase so they
// never collide with the hosted <errno.h> macros.
enum class Errno : int {
    Perm = 1,
    NoEnt = 2,
    Srch = 3,
    Intr = 4,
    Io = 5,
    NxIo = 6,
    TooBig = 7,  // E2BIG
    NoExec = 8,
    BadF = 9,
    Child = 10,
    Again = 11,
    NoMem = 12,
    Access = 13,
    Fault = 14,
    Busy = 16,
    Exist = 17,
    XDev = 18,
    NoDev = 19,
    NotDir = 20,
    IsDir = 21,
    Inval = 22,
    NFile = 23,
    MFile = 24,
    NotTy = 25,
    FBig = 27,
    NoSpc = 28,
    SPipe = 29,
    ReadOnlyFs = 30,
    MLink = 31,
    Pipe = 32,
    Dom = 33,
    Range = 34,
    Deadlock = 35,
    NameTooLong = 36,
    NoLck = 37,
    NoSys = 38,
    NotEmpty = 39,
    Loop = 40,
    NoData = 61,
    Overflow = 75,
    IlSeq = 84,
    NotSock = 88,
    OpNotSupp = 95,
    TimedOut = 110,
};

// The Linux name of an errno ("ENOENT"), for logs and crash reports.
const char* errno_name(Errno e);

}  // namespace lib
