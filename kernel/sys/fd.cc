// Syscalls on file descriptors: read/write, their vectored and positioned forms, sendfile,
// close, lseek, ioctl, fstat, dup, fcntl. Data moves through a bounded kernel bounce buffer so
// a huge count costs no memory.
#include "kernel/fs/inode_file.h"
#include "kernel/fs/pipe.h"
#include "kernel/net/socket.h"
#include "kernel/proc/process.h"
#include "kernel/sys/handlers.h"

namespace kernel::sys {

namespace {

constexpr size_t kBounceSize = 4096;
constexpr int kIovMax = 1024;  // Linux's UIO_MAXIOV

// Linux clamps a single transfer to MAX_RW_COUNT (INT_MAX rounded down to a page).
constexpr uint64_t kMaxRwCount = 0x7ffff000;

// write (position < 0) or pwrite: chunk by chunk; a failure after some data got through
// reports what did.
lib::Result<size_t> write_from_user_at(fs::File& file, uint64_t address, uint64_t count,
                                       int64_t position) {
    char bounce[kBounceSize];
    size_t done = 0;
    if (count > kMaxRwCount) count = kMaxRwCount;
    if (position < 0 && file.moves_user_memory()) return file.write_user(address, count);
    while (done < count) {
        size_t chunk = count - done < kBounceSize ? count - done : kBounceSize;
        auto copied = mm::copy_from_user_bytes(bounce, address + done, chunk);
        if (copied.is_error()) {
            if (done) break;
            return copied.error();
        }
        auto written = position < 0 ? file.write({bounce, chunk})
                                    : file.pwrite({bounce, chunk}, uint64_t(position) + done);
        if (written.is_error()) {
            if (done) break;
            return written.error();
        }
        done += written.value();
        if (written.value() < chunk) break;
    }
    return done;
}

lib::Result<size_t> write_from_user(fs::File& file, uint64_t address, uint64_t count) {
    return write_from_user_at(file, address, count, -1);
}

// read (position < 0) or pread, chunk by chunk through the bounce buffer. A file on a
// filesystem is read until `count` or EOF, as Linux never returns a short read from one;
// anything else (a pipe, the console) returns after the first chunk that had data, since
// asking again could wait.
lib::Result<size_t> read_to_user_at(fs::File& file, uint64_t address, uint64_t count,
                                    int64_t position) {
    char bounce[kBounceSize];
    if (count > kMaxRwCount) count = kMaxRwCount;
    if (!mm::user_range_ok(address, count)) return lib::Errno::Fault;
    if (position < 0 && file.moves_user_memory()) return file.read_user(address, count);
    bool whole = file.as_inode_file() != nullptr;
    size_t done = 0;
    do {
        size_t chunk = count - done < kBounceSize ? count - done : kBounceSize;
        auto got = position < 0 ? file.read({bounce, chunk})
                                : file.pread({bounce, chunk}, uint64_t(position) + done);
        if (got.is_error()) {
            if (done) break;
            return got.error();
        }
        if (auto copied = mm::copy_to_user_bytes(address + done, bounce, got.value()); copied.is_error()) {
            if (done) break;
            return copied.error();
        }
        done += got.value();
        if (got.value() < chunk) break;
    } while (whole && done < count);
    return done;
}

lib::Result<size_t> read_to_user(fs::File& file, uint64_t address, uint64_t count) {
    return read_to_user_at(file, address, count, -1);
}

lib::Result<size_t> pread_to_user(fs::File& file, uint64_t address, uint64_t count, uint64_t position) {
    return read_to_user_at(file, address, count, int64_t(position));
}

template <typename Transfer>
SyscallResult vectored(int fd, UserIn<IoVec> iov, int count, Transfer transfer) {
    fs::FileRef file(TRY(proc::current().fds().get(fd)));  // held: a transfer may sleep
    if (count < 0 || count > kIovMax) return lib::Errno::Inval;
    uint64_t total = 0;
    for (int i = 0; i < count; ++i) {
        IoVec vec;
        TRY(mm::copy_from_user(vec, iov.offset(size_t(i))));
        if (vec.length > kMaxRwCount - total) vec.length = kMaxRwCount - total;
        if (vec.length == 0) continue;
        auto moved = transfer(*file, vec.base, vec.length);
        if (moved.is_error()) {
            if (total) break;
            return moved.error();
        }
        total += moved.value();
        if (moved.value() < vec.length || total >= kMaxRwCount) break;
    }
    return int64_t(total);
}

}  // namespace

// The description is held while the call may sleep (a pipe, an eventfd): another thread
// may close the descriptor meanwhile.
SyscallResult sys_read(int fd, UserOut<char> buffer, uint64_t count) {
    fs::FileRef file(TRY(proc::current().fds().get(fd)));
    return int64_t(TRY(read_to_user(*file, buffer.address(), count)));
}

SyscallResult sys_write(int fd, UserIn<char> buffer, uint64_t count) {
    fs::FileRef file(TRY(proc::current().fds().get(fd)));
    return int64_t(TRY(write_from_user(*file, buffer.address(), count)));
}

// A socket takes a readv or writev as one message, as Linux's sock_read_iter does: a writev
// is one send (one segment when it fits), a readv one receive. Nothing when not a socket.
lib::Result<bool> socket_vectored(int fd, UserIn<IoVec> iov, int count, bool reading,
                                  int64_t& moved) {
    fs::FileRef file(TRY(proc::current().fds().get(fd)));
    net::SocketFile* socket = file->as_socket();
    if (!socket) return false;
    if (count < 0) return lib::Errno::Inval;
    net::UserIo io = TRY(net::UserIo::vectored(iov, size_t(count)));
    if (reading) {
        net::ReceiveRequest request{&io};
        moved = int64_t(TRY(socket->receive(request)));
    } else {
        net::SendRequest request{&io};
        moved = int64_t(TRY(socket->send(request)));
    }
    return true;
}

SyscallResult sys_readv(int fd, UserIn<IoVec> iov, int count) {
    int64_t moved = 0;
    if (TRY(socket_vectored(fd, iov, count, true, moved))) return moved;
    return vectored(fd, iov, count, read_to_user);
}

namespace {

// POSIX makes a pipe take a write of at most PIPE_BUF bytes whole, a writev's too: a short
// writev to a pipe is gathered into one write. Nothing when it is not one (false).
lib::Result<bool> write_gathered(fs::File& file, UserIn<IoVec> iov, int count, int64_t& written) {
    constexpr int kMaxGathered = 16;
    if (!file.as_pipe() || count < 2 || count > kMaxGathered) return false;
    IoVec vecs[kMaxGathered];
    TRY(mm::copy_array_from_user(vecs, iov, size_t(count)));
    uint64_t total = 0;
    for (int i = 0; i < count; ++i) {
        total += vecs[i].length;
        if (vecs[i].length > fs::PipeEnd::kPipeBuf || total > fs::PipeEnd::kPipeBuf) return false;
    }
    char bounce[fs::PipeEnd::kPipeBuf];
    for (uint64_t i = 0, at = 0; i < uint64_t(count); at += vecs[i++].length)
        TRY(mm::copy_from_user_bytes(bounce + at, vecs[i].base, vecs[i].length));
    written = int64_t(TRY(file.write({bounce, size_t(total)})));
    return true;
}

}  // namespace

SyscallResult sys_writev(int fd, UserIn<IoVec> iov, int count) {
    {
        fs::FileRef file(TRY(proc::current().fds().get(fd)));
        int64_t written = 0;
        if (TRY(write_gathered(*file, iov, count, written))) return written;
    }
    int64_t moved = 0;
    if (TRY(socket_vectored(fd, iov, count, false, moved))) return moved;
    return vectored(fd, iov, count, write_from_user);
}

// preadv2/pwritev2 flags (RWF_*). Files live in memory: HIPRI, DSYNC, SYNC and NOWAIT change
// nothing (nothing here ever waits for a disk write).
constexpr int kRwfHipri = 1, kRwfDsync = 2, kRwfSync = 4, kRwfNowait = 8, kRwfAppend = 0x10;
constexpr int kRwfKnown = kRwfHipri | kRwfDsync | kRwfSync | kRwfNowait | kRwfAppend;

SyscallResult sys_preadv2(int fd, UserIn<IoVec> iov, int count, int64_t offset, int64_t, int flags) {
    if (flags & ~kRwfKnown) return lib::Errno::OpNotSupp;
    if (offset == -1) return sys_readv(fd, iov, count);  // the file position, as readv
    if (offset < 0) return lib::Errno::Inval;
    uint64_t position = uint64_t(offset);
    return vectored(fd, iov, count, [&](fs::File& file, uint64_t base, uint64_t length) {
        auto got = pread_to_user(file, base, length, position);
        if (got.has_value()) position += got.value();
        return got;
    });
}

SyscallResult sys_pwritev2(int fd, UserIn<IoVec> iov, int count, int64_t offset, int64_t, int flags) {
    if (flags & ~kRwfKnown) return lib::Errno::OpNotSupp;
    if (offset == -1) return sys_writev(fd, iov, count);
    if (offset < 0) return lib::Errno::Inval;
    if (flags & kRwfAppend) {
        // The data goes to the end, as O_APPEND would put it; the position stays.
        fs::File* file = TRY(proc::current().fds().get(fd));
        LinuxStat st;
        TRY(file->stat(st));
        offset = st.size;
    }
    uint64_t position = uint64_t(offset);
    return vectored(fd, iov, count, [&](fs::File& file, uint64_t base, uint64_t length) {
        auto put = write_from_user_at(file, base, length, int64_t(position));
        if (put.has_value()) position += put.value();
        return put;
    });
}

// On x86-64 the whole offset arrives in the low half (Linux's pos_from_hilo).
SyscallResult sys_preadv(int fd, UserIn<IoVec> iov, int count, int64_t offset, int64_t high) {
    if (offset < 0) return lib::Errno::Inval;  // -1 means "the position" only for preadv2
    return sys_preadv2(fd, iov, count, offset, high, 0);
}

SyscallResult sys_pwritev(int fd, UserIn<IoVec> iov, int count, int64_t offset, int64_t high) {
    if (offset < 0) return lib::Errno::Inval;
    return sys_pwritev2(fd, iov, count, offset, high, 0);
}

SyscallResult sys_close(int fd) {
    TRY(proc::current().fds().close(fd));
    return 0;
}

SyscallResult sys_lseek(int fd, int64_t offset, int whence) {
    fs::File* file = TRY(proc::current().fds().get(fd));
    return file->seek(offset, whence);
}

// The requests Linux answers for every file before asking the file (do_vfs_ioctl).
constexpr uint32_t kFionbio = 0x5421, kFionclex = 0x5450, kFioclex = 0x5451;
constexpr int kONonblock = 04000;

SyscallResult sys_ioctl(int fd, uint32_t request, uint64_t argument) {
    auto& fds = proc::current().fds();
    fs::File* file = TRY(fds.get(fd));
    switch (request) {
        case kFioclex:
        case kFionclex:
            fds.set_cloexec(fd, request == kFioclex);
            return 0;
        case kFionbio: {
            int on;
            TRY(mm::copy_from_user(on, UserIn<int>(argument)));
            int flags = file->status_flags();
            file->set_status_flags(on ? flags | kONonblock : flags & ~kONonblock);
            return 0;
        }
        default:
            return file->ioctl(request, argument);
    }
}

SyscallResult sys_fstat(int fd, UserOut<LinuxStat> out) {
    fs::File* file = TRY(proc::current().fds().get(fd));
    LinuxStat st;
    TRY(file->stat(st));
    TRY(mm::copy_to_user(out, st));
    return 0;
}

SyscallResult sys_pread64(int fd, UserOut<char> buffer, uint64_t count, int64_t offset) {
    fs::File* file = TRY(proc::current().fds().get(fd));
    if (offset < 0) return lib::Errno::Inval;
    return int64_t(TRY(pread_to_user(*file, buffer.address(), count, uint64_t(offset))));
}

SyscallResult sys_pwrite64(int fd, UserIn<char> buffer, uint64_t count, int64_t offset) {
    fs::File* file = TRY(proc::current().fds().get(fd));
    if (offset < 0) return lib::Errno::Inval;
    if (count == 0) {
        TRY(file->pwrite({}, uint64_t(offset)));  // the checks without the data
        return 0;
    }
    return int64_t(TRY(write_from_user_at(*file, buffer.address(), count, offset)));
}

// From a file (at *offset, or at its own position, which then advances) to any file, through
// the bounce buffer; stops early where the destination takes less.
SyscallResult sys_sendfile(int out_fd, int in_fd, UserOut<int64_t> offset, uint64_t count) {
    fs::FileRef in(TRY(proc::current().fds().get(in_fd)));
    fs::FileRef out(TRY(proc::current().fds().get(out_fd)));  // a pipe's write may sleep
    fs::InodeFile* source = in->as_inode_file();
    if (!source || !source->inode().is_regular()) return lib::Errno::Inval;
    if (!source->readable()) return lib::Errno::BadF;
    int64_t position;
    if (!offset.is_null()) {
        TRY(mm::copy_from_user(position, UserIn<int64_t>(offset.address())));
        if (position < 0) return lib::Errno::Inval;
    } else {
        position = TRY(in->seek(0, 1));
    }
    if (count > kMaxRwCount) count = kMaxRwCount;
    char bounce[kBounceSize];
    uint64_t done = 0;
    lib::Errno error{};
    bool failed = false;
    while (done < count) {
        size_t chunk = count - done < kBounceSize ? size_t(count - done) : kBounceSize;
        auto got = in->pread({bounce, chunk}, uint64_t(position));
        if (got.is_error() || got.value() == 0) {
            failed = got.is_error();
            if (failed) error = got.error();
            break;
        }
        auto written = out->write({bounce, got.value()});
        if (written.is_error()) {
            failed = true;
            error = written.error();
            break;
        }
        done += written.value();
        position += int64_t(written.value());
        if (written.value() < got.value()) break;
    }
    if (failed && done == 0) return error;
    if (!offset.is_null())
        TRY(mm::copy_to_user(offset, position));
    else
        TRY(in->seek(position, 0));
    return int64_t(done);
}

namespace {

constexpr int kFDupfd = 0, kFGetfd = 1, kFSetfd = 2, kFGetfl = 3, kFSetfl = 4, kFGetlk = 5,
              kFSetlk = 6, kFSetlkw = 7, kFDupfdCloexec = 1030, kFSetpipeSz = 1031,
              kFGetpipeSz = 1032, kFdCloexec = 1, kOCloexecFlag = 02000000;
constexpr int16_t kFUnlck = 2;

SyscallResult duplicate(int fd, int lowest, bool cloexec) {
    fs::File* file = TRY(proc::current().fds().get(fd));
    file->retain();
    auto installed = proc::current().fds().install(file, lowest, cloexec);
    if (installed.is_error()) {
        file->release();
        return installed.error();
    }
    return installed.value();
}

}  // namespace

SyscallResult sys_dup(int fd) { return duplicate(fd, 0, false); }

SyscallResult sys_dup3(int fd, int target, int flags) {
    if (flags & ~kOCloexecFlag) return lib::Errno::Inval;
    if (fd == target) return lib::Errno::Inval;
    fs::File* file = TRY(proc::current().fds().get(fd));
    if (target < 0 || target >= proc::FdTable::kMaxFds) return lib::Errno::BadF;
    file->retain();
    TRY(proc::current().fds().install_at(target, file, flags & kOCloexecFlag));
    return target;
}

SyscallResult sys_dup2(int fd, int target) {
    if (fd == target) {
        TRY(proc::current().fds().get(fd));
        return target;
    }
    return sys_dup3(fd, target, 0);
}

SyscallResult sys_fcntl(int fd, int command, uint64_t argument) {
    auto& fds = proc::current().fds();
    fs::File* file = TRY(fds.get(fd));
    switch (command) {
        case kFDupfd:
        case kFDupfdCloexec:
            if (int64_t(argument) < 0 || argument >= uint64_t(proc::FdTable::kMaxFds))
                return lib::Errno::Inval;
            return duplicate(fd, int(argument), command == kFDupfdCloexec);
        case kFGetfd:
            return fds.cloexec(fd) ? kFdCloexec : 0;
        case kFSetfd:
            fds.set_cloexec(fd, argument & kFdCloexec);
            return 0;
        case kFGetfl:
            return file->status_flags();
        case kFSetfl:
            // The flags a description lets change: O_APPEND for files, O_NONBLOCK for those
            // that can block (pipes, eventfd, timerfd, the console).
            file->set_status_flags(int(argument));
            return 0;
        case kFGetpipeSz:
        case kFSetpipeSz: {
            fs::PipeEnd* pipe = file->as_pipe();
            if (!pipe) return lib::Errno::Inval;
            if (command == kFGetpipeSz) return int64_t(pipe->capacity());
            return int64_t(TRY(pipe->set_capacity(uint32_t(argument))));
        }
        case kFGetlk: {
            // One process: no lock can conflict with the caller's. l_type = F_UNLCK.
            TRY(mm::copy_to_user_bytes(argument, &kFUnlck, sizeof(kFUnlck)));
            return 0;
        }
        case kFSetlk:
        case kFSetlkw:
            return 0;  // one process: every lock is granted at once
        default:
            return lib::Errno::Inval;
    }
}

}  // namespace kernel::sys
