// Names of Linux errno values for diagnostics.
#include "lib/base/errno.h"

namespace lib {

const char* errno_name(Errno e) {
    switch (e) {
#define PHX_ERRNO(name, linux) \
    case Errno::name:          \
        return linux;
        PHX_ERRNO(Perm, "EPERM")
        PHX_ERRNO(NoEnt, "ENOENT")
        PHX_ERRNO(Srch, "ESRCH")
        PHX_ERRNO(Intr, "EINTR")
        PHX_ERRNO(Io, "EIO")
        PHX_ERRNO(NxIo, "ENXIO")
        PHX_ERRNO(TooBig, "E2BIG")
        PHX_ERRNO(NoExec, "ENOEXEC")
        PHX_ERRNO(BadF, "EBADF")
        PHX_ERRNO(Child, "ECHILD")
        PHX_ERRNO(Again, "EAGAIN")
        PHX_ERRNO(NoMem, "ENOMEM")
        PHX_ERRNO(Access, "EACCES")
        PHX_ERRNO(Fault, "EFAULT")
        PHX_ERRNO(Busy, "EBUSY")
        PHX_ERRNO(Exist, "EEXIST")
        PHX_ERRNO(XDev, "EXDEV")
        PHX_ERRNO(NoDev, "ENODEV")
        PHX_ERRNO(NotDir, "ENOTDIR")
        PHX_ERRNO(IsDir, "EISDIR")
        PHX_ERRNO(Inval, "EINVAL")
        PHX_ERRNO(NFile, "ENFILE")
        PHX_ERRNO(MFile, "EMFILE")
        PHX_ERRNO(NotTy, "ENOTTY")
        PHX_ERRNO(FBig, "EFBIG")
        PHX_ERRNO(NoSpc, "ENOSPC")
        PHX_ERRNO(SPipe, "ESPIPE")
        PHX_ERRNO(ReadOnlyFs, "EROFS")
        PHX_ERRNO(MLink, "EMLINK")
        PHX_ERRNO(Pipe, "EPIPE")
        PHX_ERRNO(Dom, "EDOM")
        PHX_ERRNO(Range, "ERANGE")
        PHX_ERRNO(Deadlock, "EDEADLK")
        PHX_ERRNO(NameTooLong, "ENAMETOOLONG")
        PHX_ERRNO(NoLck, "ENOLCK")
        PHX_ERRNO(NoSys, "ENOSYS")
        PHX_ERRNO(NotEmpty, "ENOTEMPTY")
        PHX_ERRNO(Loop, "ELOOP")
        PHX_ERRNO(NoData, "ENODATA")
        PHX_ERRNO(Overflow, "EOVERFLOW")
        PHX_ERRNO(IlSeq, "EILSEQ")
        PHX_ERRNO(NotSock, "ENOTSOCK")
        PHX_ERRNO(OpNotSupp, "EOPNOTSUPP")
        PHX_ERRNO(TimedOut, "ETIMEDOUT")
#undef PHX_ERRNO
    }
    return "E?";
}

}  // namespace lib
