// Prototypes of every implemented syscall handler (one per SYSCALL line of syscalls.def),
// grouped by the family file that defines them.
#pragma once

#include <cstdint>

#include "kernel/mm/user_ptr.h"
#include "kernel/sys/dispatch.h"
#include "kernel/sys/linux_types.h"

namespace kernel::proc {
struct SigInfo;
struct SigEvent;
struct StackT;
}  // namespace kernel::proc

namespace kernel::sys {

using mm::UserIn;
using mm::UserOut;

// fd.cc: file descriptors.
SyscallResult sys_read(int fd, UserOut<char> buffer, uint64_t count);
SyscallResult sys_write(int fd, UserIn<char> buffer, uint64_t count);
SyscallResult sys_readv(int fd, UserIn<IoVec> iov, int count);
SyscallResult sys_writev(int fd, UserIn<IoVec> iov, int count);
SyscallResult sys_close(int fd);
SyscallResult sys_lseek(int fd, int64_t offset, int whence);
SyscallResult sys_ioctl(int fd, uint32_t request, uint64_t argument);
SyscallResult sys_fstat(int fd, UserOut<LinuxStat> out);
SyscallResult sys_newfstatat(int dirfd, UserIn<char> path, UserOut<LinuxStat> out, int flags);
SyscallResult sys_pread64(int fd, UserOut<char> buffer, uint64_t count, int64_t offset);
SyscallResult sys_pwrite64(int fd, UserIn<char> buffer, uint64_t count, int64_t offset);
SyscallResult sys_preadv(int fd, UserIn<IoVec> iov, int count, int64_t offset, int64_t high);
SyscallResult sys_pwritev(int fd, UserIn<IoVec> iov, int count, int64_t offset, int64_t high);
SyscallResult sys_preadv2(int fd, UserIn<IoVec> iov, int count, int64_t offset, int64_t high, int flags);
SyscallResult sys_pwritev2(int fd, UserIn<IoVec> iov, int count, int64_t offset, int64_t high, int flags);
SyscallResult sys_sendfile(int out_fd, int in_fd, UserOut<int64_t> offset, uint64_t count);
SyscallResult sys_dup(int fd);
SyscallResult sys_dup2(int fd, int target);
SyscallResult sys_dup3(int fd, int target, int flags);
SyscallResult sys_fcntl(int fd, int command, uint64_t argument);

// fs.cc: paths and directories over the VFS.
SyscallResult sys_open(UserIn<char> path, int flags, uint32_t mode);
SyscallResult sys_openat(int dirfd, UserIn<char> path, int flags, uint32_t mode);
SyscallResult sys_access(UserIn<char> path, int mode);
SyscallResult sys_faccessat(int dirfd, UserIn<char> path, int mode);
SyscallResult sys_faccessat2(int dirfd, UserIn<char> path, int mode, int flags);
SyscallResult sys_getcwd(UserOut<char> buffer, uint64_t size);
SyscallResult sys_readlink(UserIn<char> path, UserOut<char> buffer, uint64_t size);
SyscallResult sys_readlinkat(int dirfd, UserIn<char> path, UserOut<char> buffer, uint64_t size);
SyscallResult sys_stat(UserIn<char> path, UserOut<LinuxStat> out);
SyscallResult sys_lstat(UserIn<char> path, UserOut<LinuxStat> out);
SyscallResult sys_statx(int dirfd, UserIn<char> path, int flags, uint32_t mask, UserOut<Statx> out);
SyscallResult sys_getdents64(int fd, UserOut<uint8_t> buffer, uint64_t size);
SyscallResult sys_chdir(UserIn<char> path);
SyscallResult sys_fchdir(int fd);
SyscallResult sys_umask(uint32_t mask);
SyscallResult sys_creat(UserIn<char> path, uint32_t mode);

// fs_names.cc: creating, removing and renaming names.
SyscallResult sys_mkdir(UserIn<char> path, uint32_t mode);
SyscallResult sys_mkdirat(int dirfd, UserIn<char> path, uint32_t mode);
SyscallResult sys_unlink(UserIn<char> path);
SyscallResult sys_unlinkat(int dirfd, UserIn<char> path, int flags);
SyscallResult sys_rmdir(UserIn<char> path);
SyscallResult sys_rename(UserIn<char> old_path, UserIn<char> new_path);
SyscallResult sys_renameat(int old_dirfd, UserIn<char> old_path, int new_dirfd,
                           UserIn<char> new_path);
SyscallResult sys_renameat2(int old_dirfd, UserIn<char> old_path, int new_dirfd,
                            UserIn<char> new_path, uint32_t flags);
SyscallResult sys_symlink(UserIn<char> target, UserIn<char> path);
SyscallResult sys_symlinkat(UserIn<char> target, int dirfd, UserIn<char> path);
SyscallResult sys_link(UserIn<char> old_path, UserIn<char> new_path);
SyscallResult sys_linkat(int old_dirfd, UserIn<char> old_path, int new_dirfd, UserIn<char> new_path,
                         int flags);

// fs_attrs.cc: attributes, sizes, filesystem statistics, syncing.
SyscallResult sys_chmod(UserIn<char> path, uint32_t mode);
SyscallResult sys_fchmod(int fd, uint32_t mode);
SyscallResult sys_fchmodat(int dirfd, UserIn<char> path, uint32_t mode);
SyscallResult sys_chown(UserIn<char> path, uint32_t uid, uint32_t gid);
SyscallResult sys_lchown(UserIn<char> path, uint32_t uid, uint32_t gid);
SyscallResult sys_fchown(int fd, uint32_t uid, uint32_t gid);
SyscallResult sys_fchownat(int dirfd, UserIn<char> path, uint32_t uid, uint32_t gid, int flags);
SyscallResult sys_utimensat(int dirfd, UserIn<char> path, UserIn<TimeSpec> times, int flags);
SyscallResult sys_futimesat(int dirfd, UserIn<char> path, UserIn<TimeVal> times);
SyscallResult sys_utimes(UserIn<char> path, UserIn<TimeVal> times);
SyscallResult sys_utime(UserIn<char> path, UserIn<UtimBuf> times);
SyscallResult sys_truncate(UserIn<char> path, int64_t length);
SyscallResult sys_ftruncate(int fd, int64_t length);
SyscallResult sys_fallocate(int fd, int mode, int64_t offset, int64_t length);
SyscallResult sys_statfs(UserIn<char> path, UserOut<LinuxStatfs> out);
SyscallResult sys_fstatfs(int fd, UserOut<LinuxStatfs> out);
SyscallResult sys_fsync(int fd);
SyscallResult sys_fdatasync(int fd);
SyscallResult sys_syncfs(int fd);
SyscallResult sys_sync();

// mman.cc: memory.
SyscallResult sys_mmap(uint64_t address, uint64_t length, int prot, int flags, int fd,
                       int64_t offset);
SyscallResult sys_munmap(uint64_t address, uint64_t length);
SyscallResult sys_mprotect(uint64_t address, uint64_t length, int prot);
SyscallResult sys_brk(uint64_t address);
SyscallResult sys_madvise(uint64_t address, uint64_t length, int advice);
SyscallResult sys_msync(uint64_t address, uint64_t length, int flags);

// proc.cc: the process and its identity.
SyscallResult sys_exit(int status);
SyscallResult sys_clone(uint64_t flags, uint64_t stack, uint64_t parent_tid, uint64_t child_tid,
                        uint64_t tls);
struct CloneArgs;
SyscallResult sys_clone3(UserIn<CloneArgs> args, uint64_t size);
SyscallResult sys_fork();
SyscallResult sys_vfork();
SyscallResult sys_execve(uint64_t path, uint64_t argv, uint64_t envp);
SyscallResult sys_get_robust_list(int tid, UserOut<uint64_t> head, UserOut<uint64_t> length);
SyscallResult sys_exit_group(int status);
SyscallResult sys_getpid();
SyscallResult sys_gettid();
SyscallResult sys_getppid();
SyscallResult sys_getuid();
SyscallResult sys_geteuid();
SyscallResult sys_getgid();
SyscallResult sys_getegid();
SyscallResult sys_set_tid_address(uint64_t address);
SyscallResult sys_set_robust_list(uint64_t head, uint64_t length);
SyscallResult sys_rseq(uint64_t rseq, uint32_t length, int flags, uint32_t signature);
SyscallResult sys_arch_prctl(int code, uint64_t address);
SyscallResult sys_prlimit64(int pid, int resource, UserIn<RLimit> new_limit,
                            UserOut<RLimit> old_limit);
SyscallResult sys_getrlimit(int resource, UserOut<RLimit> out);
SyscallResult sys_sched_getaffinity(int pid, uint64_t size, UserOut<uint8_t> mask);
SyscallResult sys_sched_yield();
SyscallResult sys_sched_setscheduler(int tid, int policy, UserIn<int32_t> param);
SyscallResult sys_sched_getscheduler(int tid);
SyscallResult sys_sched_setparam(int tid, UserIn<int32_t> param);
SyscallResult sys_sched_getparam(int tid, UserOut<int32_t> param);
SyscallResult sys_sched_get_priority_max(int policy);
SyscallResult sys_sched_get_priority_min(int policy);
SyscallResult sys_sched_rr_get_interval(int tid, UserOut<TimeSpec> interval);
SyscallResult sys_sched_setaffinity(int tid, uint64_t size, UserIn<uint8_t> mask);
SyscallResult sys_getcpu(UserOut<uint32_t> cpu, UserOut<uint32_t> node, uint64_t cache);
SyscallResult sys_membarrier(int command, unsigned flags, int cpu);
SyscallResult sys_prctl(int option, uint64_t arg2, uint64_t arg3, uint64_t arg4, uint64_t arg5);
SyscallResult sys_uname(UserOut<UtsName> out);
SyscallResult sys_getrandom(UserOut<uint8_t> buffer, uint64_t count, uint32_t flags);

// time.cc: clocks and sleeping.
SyscallResult sys_clock_gettime(int clock, UserOut<TimeSpec> out);
SyscallResult sys_clock_getres(int clock, UserOut<TimeSpec> out);
SyscallResult sys_gettimeofday(UserOut<TimeVal> tv, uint64_t timezone);
SyscallResult sys_time(UserOut<int64_t> out);
SyscallResult sys_nanosleep(UserIn<TimeSpec> request, UserOut<TimeSpec> remaining);
SyscallResult sys_clock_nanosleep(int clock, int flags, UserIn<TimeSpec> request,
                                  UserOut<TimeSpec> remaining);

// signal.cc: signals (delivery is kernel/proc/signal_delivery.cc).
SyscallResult sys_rt_sigaction(int signal, UserIn<SigAction> action, UserOut<SigAction> old,
                               uint64_t mask_size);
SyscallResult sys_rt_sigprocmask(int how, UserIn<uint64_t> set, UserOut<uint64_t> old,
                                 uint64_t mask_size);
SyscallResult sys_rt_sigpending(UserOut<uint64_t> set, uint64_t size);
SyscallResult sys_rt_sigsuspend(UserIn<uint64_t> mask, uint64_t size);
SyscallResult sys_pause();
SyscallResult sys_rt_sigtimedwait(UserIn<uint64_t> set, UserOut<proc::SigInfo> info,
                                  UserIn<TimeSpec> timeout, uint64_t size);
SyscallResult sys_rt_sigqueueinfo(int pid, int signal, UserIn<proc::SigInfo> info);
SyscallResult sys_rt_tgsigqueueinfo(int tgid, int tid, int signal, UserIn<proc::SigInfo> info);
SyscallResult sys_kill(int pid, int signal);
SyscallResult sys_tkill(int tid, int signal);
SyscallResult sys_tgkill(int tgid, int tid, int signal);
SyscallResult sys_sigaltstack(UserIn<proc::StackT> stack, UserOut<proc::StackT> old);
SyscallResult sys_rt_sigreturn();
SyscallResult sys_signalfd(int fd, UserIn<uint64_t> mask, uint64_t size);
SyscallResult sys_signalfd4(int fd, UserIn<uint64_t> mask, uint64_t size, int flags);

// itimer.cc, posix_timer.cc: interval timers and POSIX timers (struct itimerval and
// itimerspec are two TimeVal or TimeSpec: interval, then value).
SyscallResult sys_setitimer(int which, UserIn<TimeVal> value, UserOut<TimeVal> old);
SyscallResult sys_getitimer(int which, UserOut<TimeVal> value);
SyscallResult sys_alarm(uint32_t seconds);
SyscallResult sys_timer_create(int clock, UserIn<proc::SigEvent> event, UserOut<int32_t> id);
SyscallResult sys_timer_settime(int id, int flags, UserIn<TimeSpec> value, UserOut<TimeSpec> old);
SyscallResult sys_timer_gettime(int id, UserOut<TimeSpec> value);
SyscallResult sys_timer_getoverrun(int id);
SyscallResult sys_timer_delete(int id);

// futex.cc: futexes for one thread.
SyscallResult sys_futex(UserIn<uint32_t> address, int op, uint32_t value, UserIn<TimeSpec> timeout,
                        uint64_t address2, uint32_t value3);

// poll.cc, epoll.cc, event_files.cc: waiting on many files, and the files made for it.
struct EpollEvent;
struct ItimerSpec;
struct SigmaskArgument;
SyscallResult sys_poll(UserOut<PollFd> fds, uint64_t count, int timeout_ms);
SyscallResult sys_ppoll(UserOut<PollFd> fds, uint64_t count, UserIn<TimeSpec> timeout,
                        UserIn<uint64_t> sigmask, uint64_t sigset_size);
SyscallResult sys_select(int nfds, UserOut<uint64_t> in, UserOut<uint64_t> out,
                         UserOut<uint64_t> ex, UserOut<TimeVal> timeout);
SyscallResult sys_pselect6(int nfds, UserOut<uint64_t> in, UserOut<uint64_t> out,
                           UserOut<uint64_t> ex, UserIn<TimeSpec> timeout,
                           UserIn<SigmaskArgument> sigmask);
SyscallResult sys_epoll_create(int size);
SyscallResult sys_epoll_create1(int flags);
SyscallResult sys_epoll_ctl(int epfd, int op, int fd, UserIn<EpollEvent> event);
SyscallResult sys_epoll_wait(int epfd, UserOut<EpollEvent> events, int max, int timeout_ms);
SyscallResult sys_epoll_pwait(int epfd, UserOut<EpollEvent> events, int max, int timeout_ms,
                              UserIn<uint64_t> sigmask, uint64_t sigset_size);
SyscallResult sys_epoll_pwait2(int epfd, UserOut<EpollEvent> events, int max,
                               UserIn<TimeSpec> timeout, UserIn<uint64_t> sigmask,
                               uint64_t sigset_size);
SyscallResult sys_pipe(UserOut<int> fds);
SyscallResult sys_pipe2(UserOut<int> fds, int flags);
SyscallResult sys_eventfd(uint32_t initial);
SyscallResult sys_eventfd2(uint32_t initial, int flags);
SyscallResult sys_timerfd_create(int clock, int flags);
SyscallResult sys_timerfd_settime(int fd, int flags, UserIn<ItimerSpec> new_value,
                                  UserOut<ItimerSpec> old_value);
SyscallResult sys_timerfd_gettime(int fd, UserOut<ItimerSpec> current);

// socket.cc: sockets (kernel/net).
SyscallResult sys_socket(int domain, int type, int protocol);
SyscallResult sys_socketpair(int domain, int type, int protocol, UserOut<int> fds);
SyscallResult sys_bind(int fd, uint64_t address, uint32_t length);
SyscallResult sys_connect(int fd, uint64_t address, uint32_t length);
SyscallResult sys_listen(int fd, int backlog);
SyscallResult sys_accept(int fd, uint64_t address, uint64_t length_address);
SyscallResult sys_accept4(int fd, uint64_t address, uint64_t length_address, int flags);
SyscallResult sys_sendto(int fd, uint64_t buffer, uint64_t length, int flags, uint64_t address, uint32_t address_length);
SyscallResult sys_recvfrom(int fd, uint64_t buffer, uint64_t length, int flags, uint64_t address, uint64_t length_address);
SyscallResult sys_sendmsg(int fd, uint64_t message, int flags);
SyscallResult sys_recvmsg(int fd, uint64_t message, int flags);
SyscallResult sys_sendmmsg(int fd, uint64_t messages, uint32_t count, int flags);
SyscallResult sys_recvmmsg(int fd, uint64_t messages, uint32_t count, int flags, UserIn<TimeSpec> timeout);
SyscallResult sys_shutdown(int fd, int how);
SyscallResult sys_getsockname(int fd, uint64_t address, uint64_t length_address);
SyscallResult sys_getpeername(int fd, uint64_t address, uint64_t length_address);
SyscallResult sys_setsockopt(int fd, int level, int name, uint64_t value, uint32_t length);
SyscallResult sys_getsockopt(int fd, int level, int name, uint64_t value, uint64_t length_address);

}  // namespace kernel::sys
