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
        PHX_ERRNO(DestAddrReq, "EDESTADDRREQ")
        PHX_ERRNO(MsgSize, "EMSGSIZE")
        PHX_ERRNO(ProtoType, "EPROTOTYPE")
        PHX_ERRNO(NoProtoOpt, "ENOPROTOOPT")
        PHX_ERRNO(ProtoNoSupport, "EPROTONOSUPPORT")
        PHX_ERRNO(SockTNoSupport, "ESOCKTNOSUPPORT")
        PHX_ERRNO(OpNotSupp, "EOPNOTSUPP")
        PHX_ERRNO(PfNoSupport, "EPFNOSUPPORT")
        PHX_ERRNO(AfNoSupport, "EAFNOSUPPORT")
        PHX_ERRNO(AddrInUse, "EADDRINUSE")
        PHX_ERRNO(AddrNotAvail, "EADDRNOTAVAIL")
        PHX_ERRNO(NetDown, "ENETDOWN")
        PHX_ERRNO(NetUnreach, "ENETUNREACH")
        PHX_ERRNO(NetReset, "ENETRESET")
        PHX_ERRNO(ConnAborted, "ECONNABORTED")
        PHX_ERRNO(ConnReset, "ECONNRESET")
        PHX_ERRNO(NoBufs, "ENOBUFS")
        PHX_ERRNO(IsConn, "EISCONN")
        PHX_ERRNO(NotConn, "ENOTCONN")
        PHX_ERRNO(Shutdown, "ESHUTDOWN")
        PHX_ERRNO(TimedOut, "ETIMEDOUT")
        PHX_ERRNO(ConnRefused, "ECONNREFUSED")
        PHX_ERRNO(HostDown, "EHOSTDOWN")
        PHX_ERRNO(HostUnreach, "EHOSTUNREACH")
        PHX_ERRNO(Already, "EALREADY")
        PHX_ERRNO(InProgress, "EINPROGRESS")
#undef PHX_ERRNO
    }
    return "E?";
}

}  // namespace lib
