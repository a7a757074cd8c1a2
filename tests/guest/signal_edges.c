// Signal behaviour beyond sig_recover.c, as on Linux: the FP state survives a handler, which
// starts with a clean one and may edit the interrupted one through uc_mcontext.fpregs; a
// handler cannot give itself IOPL through rt_sigreturn; a crafted bad frame is a SIGSEGV;
// SA_RESTART restarts a blocking signalfd read and its absence makes it fail with EINTR;
// nanosleep reports what was left; a process-directed signal goes to the thread that does
// not block it; signalfd (O_NONBLOCK, poll, SI_TIMER fields); a POSIX timer's overruns while
// its signal waits; SA_NODEFER; int3's SIGTRAP; sigaltstack's errors. With an argument it
// dies instead: "abort" (SIGABRT, crash report, 134), "term" (SIGTERM, 143), "segv-blocked"
// (a fault with SIGSEGV blocked: the crash report despite the handler, 139). Prints
// "signal edges ok" and exits 0, or "FAILED ..." and exits 1.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAILED line %d: %s (errno %d %s)\n", __LINE__, #cond, errno, strerror(errno)); \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define MS (1000LL * 1000)

static volatile sig_atomic_t g_count;
static volatile unsigned g_handler_mxcsr;
static volatile pid_t g_handler_tid;
static sigjmp_buf g_recover;

static void on(int signo, void (*handler)(int, siginfo_t*, void*), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(signo, &sa, NULL) == 0);
}

static unsigned get_mxcsr(void) {
    unsigned value;
    __asm__ volatile("stmxcsr %0" : "=m"(value));
    return value;
}

static void set_mxcsr(unsigned value) { __asm__ volatile("ldmxcsr %0" ::"m"(value)); }

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// Clobbers xmm0 and MXCSR, records what MXCSR it started with, and sets the interrupted
// context's xmm1 through the frame.
static void clobber_fp(int signo, siginfo_t* info, void* context) {
    (void)signo, (void)info;
    g_handler_mxcsr = get_mxcsr();
    set_mxcsr(0x1f80 | 0x6000);  // round toward zero
    __asm__ volatile("pcmpeqd %%xmm0, %%xmm0" ::: "xmm0");
    ucontext_t* uc = context;
    uc->uc_mcontext.fpregs->_xmm[1].element[0] = 0x12345678;
    g_count++;
}

static void fp_state(void) {
    on(SIGUSR1, clobber_fp, 0);
    set_mxcsr(0x1f80 | 0x2000);  // round down
    uint32_t before[4] = {1, 2, 3, 4}, after[4], xmm1[4];
    g_count = 0;
    __asm__ volatile(
        "movdqu %[in], %%xmm0\n\t"
        "pxor %%xmm1, %%xmm1\n\t"
        "mov %[tid], %%esi\n\t"
        "mov %[pid], %%edi\n\t"
        "mov %[sig], %%edx\n\t"
        "mov %[nr], %%eax\n\t"
        "syscall\n\t"
        "movdqu %%xmm0, %[out]\n\t"
        "movdqu %%xmm1, %[out1]\n\t"
        : [out] "=m"(after), [out1] "=m"(xmm1)
        : [in] "m"(before), [tid] "r"((int)gettid()), [pid] "r"((int)getpid()), [sig] "i"(SIGUSR1),
          [nr] "i"(SYS_tgkill)
        : "rax", "rcx", "rdx", "rsi", "rdi", "r11", "xmm0", "xmm1", "memory");
    CHECK(g_count == 1);
    CHECK(memcmp(before, after, sizeof before) == 0);  // xmm0 survived the handler
    CHECK(xmm1[0] == 0x12345678);                      // the handler's edit of the frame
    CHECK(g_handler_mxcsr == 0x1f80);                  // the handler started clean
    CHECK((get_mxcsr() & 0x6000) == 0x2000);           // and the rounding mode came back
    set_mxcsr(0x1f80);
}

static void escalate(int signo, siginfo_t* info, void* context) {
    (void)signo, (void)info;
    ucontext_t* uc = context;
    uc->uc_mcontext.gregs[REG_EFL] |= 0x3000;  // IOPL 3
    g_count++;
}

static void no_privilege(void) {
    on(SIGUSR2, escalate, 0);
    uint16_t cs_before, cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs_before));
    g_count = 0;
    CHECK(raise(SIGUSR2) == 0 && g_count == 1);
    uint64_t flags;
    __asm__ volatile("pushfq; pop %0; mov %%cs, %1" : "=r"(flags), "=r"(cs));
    CHECK((flags & 0x3000) == 0);
    CHECK(cs == cs_before && (cs & 3) == 3);
}

static void leave_segv(int signo, siginfo_t* info, void* context) {
    (void)context;
    g_count++;
    CHECK(signo == SIGSEGV && info->si_code == SI_KERNEL);
    siglongjmp(g_recover, 1);
}

static uint64_t g_fake_stack[8192] __attribute__((aligned(16)));

// rt_sigreturn with a frame whose rip is not a user address: SIGSEGV, not a kernel fault.
static void bad_sigreturn(void) {
    on(SIGSEGV, leave_segv, 0);
    memset(g_fake_stack, 0, sizeof g_fake_stack);
    uint64_t* frame = &g_fake_stack[7000];  // rsp after the restorer's ret = frame + 8
    // struct rt_sigframe: pretcode, then ucontext: flags, link, stack (3 words), sigcontext:
    // rsp, rip, eflags and cs/gs/fs/ss at words 15, 16, 17, 18.
    uint64_t* sc = frame + 1 + 5;
    sc[15] = (uint64_t)&g_fake_stack[4096];
    sc[16] = 0x8000000000000000ull;
    sc[17] = 0x202;
    sc[18] = 0x33 | (0x2bull << 48);
    g_count = 0;
    if (sigsetjmp(g_recover, 1) == 0) {
        __asm__ volatile("mov %0, %%rsp\n\tmov %1, %%eax\n\tsyscall\n\tud2" ::"r"(frame + 1),
                         "i"(SYS_rt_sigreturn)
                         : "memory");
    }
    CHECK(g_count == 1);
    signal(SIGSEGV, SIG_DFL);
}

static volatile sig_atomic_t g_alarms;
static timer_t g_later;  // armed by the SIGALRM handler when g_arm_later
static volatile int g_arm_later;

static void count_alarm(int signo, siginfo_t* info, void* context) {
    (void)signo, (void)info, (void)context;
    g_alarms++;
    if (g_arm_later) {
        struct itimerspec when = {{0, 0}, {0, 20 * MS}};
        timer_settime(g_later, 0, &when, NULL);
    }
}

// A blocking signalfd read interrupted by SIGALRM, whose handler arms a timer that sends
// SIGUSR2, the signal the read waits for, 20 ms later. On a slow emulator the alarm may come
// before the read blocks (the read then simply gets SIGUSR2): that try is repeated with a
// later alarm.
static void restart(int sa_flags, int expect_eintr) {
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    CHECK(sigprocmask(SIG_BLOCK, &usr2, NULL) == 0);
    int fd = signalfd(-1, &usr2, SFD_CLOEXEC);
    CHECK(fd >= 0);
    on(SIGALRM, count_alarm, sa_flags);
    struct sigevent event;
    memset(&event, 0, sizeof event);
    event.sigev_notify = SIGEV_SIGNAL;
    event.sigev_signo = SIGUSR2;
    event.sigev_value.sival_int = 77;
    CHECK(timer_create(CLOCK_MONOTONIC, &event, &g_later) == 0);
    for (long alarm_us = 20000;; alarm_us *= 4) {
        g_arm_later = 1;
        g_alarms = 0;
        struct itimerval soon = {{0, 0}, {0, alarm_us}};
        CHECK(setitimer(ITIMER_REAL, &soon, NULL) == 0);
        struct signalfd_siginfo record;
        errno = 0;
        ssize_t got = read(fd, &record, sizeof record);
        CHECK(g_alarms == 1);
        g_arm_later = 0;
        if (expect_eintr && got == sizeof record && alarm_us < 1000000) continue;  // too early
        if (expect_eintr) {
            CHECK(got == -1 && errno == EINTR);
            siginfo_t info;
            CHECK(sigwaitinfo(&usr2, &info) == SIGUSR2);  // the timer's, later
        } else {
            CHECK(got == sizeof record);
            CHECK(record.ssi_signo == SIGUSR2 && record.ssi_code == SI_TIMER);
            CHECK(record.ssi_int == 77);
        }
        break;
    }
    CHECK(timer_delete(g_later) == 0);
    close(fd);
    CHECK(sigprocmask(SIG_UNBLOCK, &usr2, NULL) == 0);
}

static void sleep_remaining(void) {
    on(SIGALRM, count_alarm, SA_RESTART);  // nanosleep fails with EINTR even so
    g_alarms = 0;
    struct itimerval soon = {{0, 0}, {0, 30000}};
    CHECK(setitimer(ITIMER_REAL, &soon, NULL) == 0);
    struct timespec want = {1, 0}, left = {0, 0};
    long long start = now_ns();
    CHECK(nanosleep(&want, &left) == -1 && errno == EINTR);
    long long slept = now_ns() - start;
    CHECK(g_alarms == 1);
    long long left_ns = left.tv_sec * 1000000000LL + left.tv_nsec;
    // 0 left is possible when a starved vCPU wakes only after the whole second.
    CHECK(left_ns >= 0 && left_ns <= 1000 * MS - 25 * MS);
    CHECK(left_ns + slept >= 1000 * MS - 5 * MS && left_ns + slept <= 1000 * MS + 200 * MS);
}

static void record_tid(int signo, siginfo_t* info, void* context) {
    (void)signo, (void)info, (void)context;
    g_handler_tid = gettid();
}

static volatile pid_t g_waiter_tid;
static void* waiter(void* unused) {
    (void)unused;
    g_waiter_tid = gettid();
    sigset_t none;
    sigemptyset(&none);
    while (g_handler_tid == 0) sigsuspend(&none);
    return NULL;
}

static void process_directed(void) {
    on(SIGUSR1, record_tid, 0);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    g_handler_tid = 0;
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, waiter, NULL) == 0);  // starts unblocked
    CHECK(sigprocmask(SIG_BLOCK, &usr1, NULL) == 0);
    while (g_waiter_tid == 0) sched_yield();
    struct timespec pause_ms = {0, 5 * MS};
    nanosleep(&pause_ms, NULL);  // let it reach sigsuspend
    CHECK(kill(getpid(), SIGUSR1) == 0);
    CHECK(pthread_join(thread, NULL) == 0);
    CHECK(g_handler_tid == g_waiter_tid);
    CHECK(sigprocmask(SIG_UNBLOCK, &usr1, NULL) == 0);
}

static void signalfd_basics(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 2);
    CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0);
    int fd = signalfd(-1, &set, SFD_NONBLOCK);
    CHECK(fd >= 0);
    struct signalfd_siginfo record;
    errno = 0;
    CHECK(read(fd, &record, sizeof record) == -1 && errno == EAGAIN);
    CHECK(read(fd, &record, 16) == -1 && errno == EINVAL);
    struct pollfd p = {fd, POLLIN, 0};
    CHECK(poll(&p, 1, 0) == 0);
    CHECK(sigqueue(getpid(), SIGRTMIN + 2, (union sigval){.sival_int = 5}) == 0);
    CHECK(sigqueue(getpid(), SIGRTMIN + 2, (union sigval){.sival_int = 6}) == 0);
    CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLIN));
    struct signalfd_siginfo two[2];
    CHECK(read(fd, two, sizeof two) == sizeof two);
    CHECK(two[0].ssi_code == SI_QUEUE && two[0].ssi_int == 5 && two[1].ssi_int == 6);
    CHECK(two[0].ssi_pid == (uint32_t)getpid());
    close(fd);
    CHECK(sigprocmask(SIG_UNBLOCK, &set, NULL) == 0);
}

static void overruns(void) {
    int signo = SIGRTMIN + 3;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0);
    struct sigevent event;
    memset(&event, 0, sizeof event);
    event.sigev_notify = SIGEV_SIGNAL;
    event.sigev_signo = signo;
    timer_t timer;
    CHECK(timer_create(CLOCK_MONOTONIC, &event, &timer) == 0);
    struct itimerspec every_5ms = {{0, 5 * MS}, {0, 5 * MS}};
    long long start = now_ns();
    CHECK(timer_settime(timer, 0, &every_5ms, NULL) == 0);
    struct timespec nap = {0, 52 * MS};
    nanosleep(&nap, NULL);
    siginfo_t info;
    CHECK(sigwaitinfo(&set, &info) == signo);
    long long periods = (now_ns() - start) / (5 * MS);  // expirations the time allows
    CHECK(info.si_code == SI_TIMER && info.si_overrun >= 5 && info.si_overrun + 1 <= periods);
    CHECK(timer_getoverrun(timer) == info.si_overrun);
    CHECK(timer_delete(timer) == 0);
    struct timespec zero = {0, 0};
    CHECK(sigtimedwait(&set, &info, &zero) == -1 && errno == EAGAIN);  // deleted with it

    event.sigev_notify = SIGEV_NONE;
    CHECK(timer_create(CLOCK_REALTIME, &event, &timer) == 0);
    struct timespec real;
    clock_gettime(CLOCK_REALTIME, &real);
    struct itimerspec at = {{0, 0}, {real.tv_sec + 2, real.tv_nsec}};
    CHECK(timer_settime(timer, TIMER_ABSTIME, &at, NULL) == 0);
    struct itimerspec state;
    CHECK(timer_gettime(timer, &state) == 0);
    CHECK(state.it_value.tv_sec == 1 ||
          (state.it_value.tv_sec == 2 && state.it_value.tv_nsec == 0));
    CHECK(timer_delete(timer) == 0);
    CHECK(sigprocmask(SIG_UNBLOCK, &set, NULL) == 0);
}

static volatile int g_depth, g_max_depth;
static void nested(int signo, siginfo_t* info, void* context) {
    (void)info, (void)context;
    g_depth++;
    if (g_depth > g_max_depth) g_max_depth = g_depth;
    if (g_depth == 1) raise(signo);  // delivered at once: SA_NODEFER leaves it unblocked
    g_depth--;
}

static volatile uintptr_t g_trap_rip;
static void on_trap(int signo, siginfo_t* info, void* context) {
    (void)signo;
    g_trap_rip = (uintptr_t)((ucontext_t*)context)->uc_mcontext.gregs[REG_RIP];
    g_count = info->si_code;
}

extern const char phx_after_int3[];

static __attribute__((noinline)) void misc(void) {
    on(SIGUSR1, nested, SA_NODEFER);
    g_max_depth = 0;
    CHECK(raise(SIGUSR1) == 0 && g_max_depth == 2);

    on(SIGTRAP, on_trap, 0);
    __asm__ volatile("int3\n\t.globl phx_after_int3\nphx_after_int3:" ::: "memory");
    CHECK(g_count == SI_KERNEL && g_trap_rip == (uintptr_t)phx_after_int3);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    CHECK(sigaction(SIGKILL, &sa, NULL) == -1 && errno == EINVAL);
    CHECK(raise(SIGCHLD) == 0 && raise(SIGWINCH) == 0);  // ignored by default
    CHECK(kill(getpid(), 0) == 0);

    stack_t small = {.ss_sp = malloc(1024), .ss_flags = 0, .ss_size = 1024};
    CHECK(sigaltstack(&small, NULL) == -1 && errno == ENOMEM);
    small.ss_flags = 0x40;
    small.ss_size = 65536;
    CHECK(sigaltstack(&small, NULL) == -1 && errno == EINVAL);
}

static void die(const char* how) {
    if (strcmp(how, "abort") == 0) abort();
    if (strcmp(how, "term") == 0) kill(getpid(), SIGTERM);
    if (strcmp(how, "segv-blocked") == 0) {
        on(SIGSEGV, leave_segv, 0);
        sigset_t segv;
        sigemptyset(&segv);
        sigaddset(&segv, SIGSEGV);
        sigprocmask(SIG_BLOCK, &segv, NULL);
        int* volatile bad = (int*)8;
        *bad = 1;
    }
    printf("FAILED: still alive after %s\n", how);
    exit(1);
}

int main(int argc, char** argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1) die(argv[1]);
    fp_state();
    no_privilege();
    bad_sigreturn();
    restart(SA_RESTART, 0);
    restart(0, 1);
    sleep_remaining();
    process_directed();
    signalfd_basics();
    overruns();
    misc();
    printf("signal edges ok\n");
    return 0;
}
