// A stack overflow caught on an alternate signal stack: infinite recursion on the main
// thread's stack until it faults, a SIGSEGV handler (SA_ONSTACK) that checks it runs inside
// the sigaltstack area (a local's address, and SS_ONSTACK reported) with si_addr near the
// deepest frame, and leaves through siglongjmp; twice, since leaving must take the program
// off the alternate stack and restore the mask. Then the same on a thread with a 256 KiB
// stack (into glibc's guard page) and an alternate stack of its own: sigaltstack is per
// thread. Prints "altstack ok" and exits 0, or "FAILED ..." and exits 1.
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAILED line %d: %s (errno %d %s)\n", __LINE__, #cond, errno, strerror(errno)); \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define ALT_SIZE (256 * 1024)
#define FRAME_BYTES 512

static sigjmp_buf g_recover;
static char* g_alt;
static char* volatile g_deepest;  // lowest frame the recursion reached
static volatile uintptr_t g_handler_local, g_fault_addr;
static volatile int g_on_alt_stack, g_handled;

static void on_overflow(int signo, siginfo_t* info, void* context) {
    (void)signo, (void)context;
    char local;
    g_handler_local = (uintptr_t)&local;
    g_fault_addr = (uintptr_t)info->si_addr;
    stack_t now;
    g_on_alt_stack = sigaltstack(NULL, &now) == 0 && (now.ss_flags & SS_ONSTACK);
    g_handled++;
    siglongjmp(g_recover, 1);
}

#pragma GCC diagnostic ignored "-Winfinite-recursion"  // overflowing is the point
// Not a tail call, and a frame the compiler cannot shrink: each call costs FRAME_BYTES.
static __attribute__((noinline)) int recurse(int depth) {
    volatile char frame[FRAME_BYTES];
    frame[0] = (char)depth;
    g_deepest = (char*)frame;
    return recurse(depth + 1) + frame[0];
}

static void overflow_once(void) {
    int handled = g_handled;
    g_handler_local = 0;
    if (sigsetjmp(g_recover, 1) == 0) {
        recurse(0);
        CHECK(!"the recursion returned");
    }
    CHECK(g_handled == handled + 1);
    CHECK(g_handler_local >= (uintptr_t)g_alt && g_handler_local < (uintptr_t)g_alt + ALT_SIZE);
    CHECK(g_on_alt_stack);
    // The fault is the frame below the deepest one that was written: within a few frames.
    CHECK(g_fault_addr < (uintptr_t)g_deepest + FRAME_BYTES);
    CHECK(g_fault_addr + 4 * FRAME_BYTES > (uintptr_t)g_deepest);
    stack_t now;
    CHECK(sigaltstack(NULL, &now) == 0);
    CHECK(!(now.ss_flags & SS_ONSTACK) && now.ss_sp == g_alt && now.ss_size == ALT_SIZE);
}

// The calling thread's alternate stack: a fresh mapping, recorded in g_alt.
static void use_alt_stack(void) {
    g_alt = mmap(NULL, ALT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(g_alt != MAP_FAILED);
    stack_t alt = {.ss_sp = g_alt, .ss_flags = 0, .ss_size = ALT_SIZE};
    CHECK(sigaltstack(&alt, NULL) == 0);
}

static void* thread_overflow(void* unused) {
    (void)unused;
    stack_t inherited;
    CHECK(sigaltstack(NULL, &inherited) == 0 && (inherited.ss_flags & SS_DISABLE));
    use_alt_stack();
    overflow_once();
    return NULL;
}

int main(void) {
    use_alt_stack();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_overflow;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
    overflow_once();
    overflow_once();

    char* main_alt = g_alt;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    CHECK(pthread_attr_setstacksize(&attr, 256 * 1024) == 0);
    pthread_t thread;
    CHECK(pthread_create(&thread, &attr, thread_overflow, NULL) == 0);
    CHECK(pthread_join(thread, NULL) == 0);
    CHECK(g_handled == 3 && g_alt != main_alt);
    printf("altstack ok\n");
    return 0;
}
