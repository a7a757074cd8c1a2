// Signals a program handles and recovers from, as on Linux: SIGSEGV with SA_SIGINFO (si_addr
// the faulting address, SEGV_MAPERR on an unmapped page, SEGV_ACCERR on a read-only one)
// left through siglongjmp, twice, so the mask siglongjmp restores must unblock it again; a
// SIGILL handler that moves the interrupted context's RIP past a ud2 and sets its RAX; an
// integer divide by zero (SIGFPE, FPE_INTDIV, si_addr the instruction); raise, kill and
// tgkill to itself delivered before they return, with the handler running under its
// sa_mask; SA_RESETHAND; SIG_IGN; sigprocmask blocking, sigpending, delivery on unblocking,
// standard signals merged and real-time ones queued with their values; sigtimedwait taking
// a blocked signal, and timing out. Prints "signals ok" and exits 0, or "FAILED ..." and
// exits 1.
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
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

static sigjmp_buf g_recover;
static volatile sig_atomic_t g_signo, g_count, g_code;
static void* volatile g_addr;
static volatile uintptr_t g_rip;
static volatile int g_queued_values[4];

static void on(int signo, void (*handler)(int, siginfo_t*, void*), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(signo, &sa, NULL) == 0);
}

static void record(int signo, siginfo_t* info, void* context) {
    ucontext_t* uc = context;
    g_signo = signo;
    g_code = info->si_code;
    g_addr = info->si_addr;
    g_rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    g_count++;
}

static void record_and_leave(int signo, siginfo_t* info, void* context) {
    record(signo, info, context);
    siglongjmp(g_recover, 1);
}

// Expects one fault at `address` with `code`, recovered through siglongjmp.
static void fault_at(volatile char* address, int write, int code) {
    g_count = 0;
    if (sigsetjmp(g_recover, 1) == 0) {
        if (write)
            *address = 1;
        else
            (void)*address;
        CHECK(!"the access did not fault");
    }
    CHECK(g_count == 1 && g_signo == SIGSEGV);
    CHECK(g_addr == (void*)address);
    CHECK(g_code == code);
}

static void segv(void) {
    on(SIGSEGV, record_and_leave, 0);
    long page = sysconf(_SC_PAGESIZE);
    char* map = mmap(NULL, 2 * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(map != MAP_FAILED);
    CHECK(munmap(map + page, page) == 0);
    fault_at(map + page + 123, 0, SEGV_MAPERR);
    fault_at(map + page + 8, 1, SEGV_MAPERR);  // again: siglongjmp restored the mask
    fault_at(map + 5, 1, SEGV_ACCERR);
    CHECK(munmap(map, page) == 0);
}

// Resumes after the 2-byte ud2 with RAX set, so the asm below sees 42 in its output.
static void skip_ud2(int signo, siginfo_t* info, void* context) {
    record(signo, info, context);
    ucontext_t* uc = context;
    uc->uc_mcontext.gregs[REG_RIP] += 2;
    uc->uc_mcontext.gregs[REG_RAX] = 42;
}

extern const char phx_ud2_site[];

// noinline: the asm defines a global label, which must be emitted once.
static __attribute__((noinline)) void ill(void) {
    on(SIGILL, skip_ud2, 0);
    g_count = 0;
    long rax;
    __asm__ volatile(
        "xor %%eax, %%eax\n\t"
        ".globl phx_ud2_site\n"
        "phx_ud2_site: ud2\n\t"
        : "=a"(rax)
        :
        : "memory");
    CHECK(g_count == 1 && g_signo == SIGILL);
    CHECK(g_code == ILL_ILLOPN);
    CHECK(g_addr == (void*)phx_ud2_site);
    CHECK(g_rip == (uintptr_t)phx_ud2_site);
    CHECK(rax == 42);
}

static void fpe(void) {
    on(SIGFPE, record_and_leave, 0);
    g_count = 0;
    volatile int zero = 0, result = 0;
    if (sigsetjmp(g_recover, 1) == 0) {
        result = 7 / zero;
        CHECK(!"divide by zero did not trap");
    }
    (void)result;
    CHECK(g_count == 1 && g_signo == SIGFPE);
    CHECK(g_code == FPE_INTDIV);
    CHECK(g_addr == (void*)g_rip);  // the faulting div, where the context resumes
}

static volatile sig_atomic_t g_usr2_blocked_in_handler, g_self_blocked_in_handler;

static void check_mask(int signo, siginfo_t* info, void* context) {
    record(signo, info, context);
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    g_self_blocked_in_handler = sigismember(&now, signo);
    g_usr2_blocked_in_handler = sigismember(&now, SIGUSR2);
}

static void send_to_self(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = check_mask;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);

    g_count = 0;
    CHECK(raise(SIGUSR1) == 0);
    CHECK(g_count == 1 && g_signo == SIGUSR1 && g_code == SI_TKILL);
    CHECK(g_self_blocked_in_handler && g_usr2_blocked_in_handler);
    CHECK(kill(getpid(), SIGUSR1) == 0);
    CHECK(g_count == 2 && g_code == SI_USER);
    CHECK(syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1) == 0);
    CHECK(g_count == 3 && g_code == SI_TKILL);
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    CHECK(!sigismember(&now, SIGUSR1) &&
          !sigismember(&now, SIGUSR2));  // the handler's mask is gone

    on(SIGUSR2, record, SA_RESETHAND);
    CHECK(raise(SIGUSR2) == 0 && g_count == 4);
    struct sigaction old;
    CHECK(sigaction(SIGUSR2, NULL, &old) == 0 && old.sa_handler == SIG_DFL);

    CHECK(signal(SIGUSR2, SIG_IGN) != SIG_ERR);
    CHECK(raise(SIGUSR2) == 0 && g_count == 4);
}

static void queued(int signo, siginfo_t* info, void* context) {
    int slot = g_count;
    record(signo, info, context);
    if (slot < 4) g_queued_values[slot] = info->si_value.sival_int;
}

static void blocking(void) {
    on(SIGUSR1, record, 0);
    sigset_t usr1, old, pending;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    CHECK(sigprocmask(SIG_BLOCK, &usr1, &old) == 0);
    g_count = 0;
    CHECK(raise(SIGUSR1) == 0 && raise(SIGUSR1) == 0);
    CHECK(g_count == 0);
    CHECK(sigpending(&pending) == 0 && sigismember(&pending, SIGUSR1));
    CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
    CHECK(g_count == 1);  // delivered once: standard signals do not queue
    CHECK(sigpending(&pending) == 0 && !sigismember(&pending, SIGUSR1));

    int rt = SIGRTMIN;
    on(rt, queued, 0);
    sigset_t rtset;
    sigemptyset(&rtset);
    sigaddset(&rtset, rt);
    CHECK(sigprocmask(SIG_BLOCK, &rtset, NULL) == 0);
    g_count = 0;
    CHECK(sigqueue(getpid(), rt, (union sigval){.sival_int = 11}) == 0);
    CHECK(sigqueue(getpid(), rt, (union sigval){.sival_int = 22}) == 0);
    CHECK(g_count == 0);
    CHECK(sigprocmask(SIG_UNBLOCK, &rtset, NULL) == 0);
    CHECK(g_count == 2 && g_code == SI_QUEUE);
    CHECK(g_queued_values[0] == 11 && g_queued_values[1] == 22);  // queued, in order
}

static void timed_wait(void) {
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    CHECK(signal(SIGUSR2, SIG_DFL) != SIG_ERR);
    CHECK(sigprocmask(SIG_BLOCK, &usr2, NULL) == 0);
    CHECK(raise(SIGUSR2) == 0);
    siginfo_t info;
    struct timespec timeout = {1, 0};
    CHECK(sigtimedwait(&usr2, &info, &timeout) == SIGUSR2);
    // glibc's sigtimedwait folds the kernel's SI_TKILL (raise uses tgkill) into SI_USER.
    CHECK(info.si_signo == SIGUSR2 && info.si_code == SI_USER && info.si_pid == getpid());

    struct timespec start, end, short_wait = {0, 20 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &start);
    errno = 0;
    CHECK(sigtimedwait(&usr2, &info, &short_wait) == -1 && errno == EAGAIN);
    clock_gettime(CLOCK_MONOTONIC, &end);
    long long waited_ns =
        (end.tv_sec - start.tv_sec) * 1000000000LL + (end.tv_nsec - start.tv_nsec);
    CHECK(waited_ns >= 20 * 1000 * 1000);  // never early
}

int main(void) {
    segv();
    ill();
    fpe();
    send_to_self();
    blocking();
    timed_wait();
    printf("signals ok\n");
    return 0;
}
