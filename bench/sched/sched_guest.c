// bench/sched's guest, run the same way natively and inside Phoenix: (a) a futex ping-pong
// between two threads, each handing the turn to the other with FUTEX_WAKE and sleeping in
// FUTEX_WAIT until it comes back (no spinning, so every round trip is two wakeups through
// the scheduler), and (b) pthread_create + pthread_join of one trivial thread at a time.
// Timed inside the program (boot is not counted). Usage: sched_guest [ROUND_TRIPS [THREADS]]
// (default 20000 and 500). Prints
//   futex_pingpong_rtt_per_s N
//   thread_create_join_per_s N
// and exits 0, or "FAILED ..." and exits 1.
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static atomic_int g_turn;  // 0: the main thread's turn, 1: the pong thread's
static long g_round_trips;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void futex_wait(atomic_int* word, int expected) {
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake(atomic_int* word) {
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

// Takes the turn from `mine` to `theirs` and sleeps until it is `mine` again.
static void hand_over_and_wait(int mine, int theirs) {
    atomic_store(&g_turn, theirs);
    futex_wake(&g_turn);
    while (atomic_load(&g_turn) != mine) futex_wait(&g_turn, theirs);
}

static void* pong(void* unused) {
    (void)unused;
    while (atomic_load(&g_turn) != 1) futex_wait(&g_turn, 0);
    for (long i = 1; i < g_round_trips; ++i) hand_over_and_wait(1, 0);
    atomic_store(&g_turn, 0);
    futex_wake(&g_turn);
    return NULL;
}

static void* nothing(void* arg) { return arg; }

static void start_thread(pthread_t* thread, void* (*body)(void*), void* arg) {
    int error = pthread_create(thread, NULL, body, arg);
    if (error == 0) return;
    printf("FAILED pthread_create: %s\n", strerror(error));
    exit(1);
}

int main(int argc, char** argv) {
    g_round_trips = argc > 1 ? atol(argv[1]) : 20000;
    long threads = argc > 2 ? atol(argv[2]) : 500;
    if (g_round_trips < 1 || threads < 1) {
        printf("FAILED usage: sched_guest [ROUND_TRIPS [THREADS]], both at least 1\n");
        return 1;
    }

    pthread_t thread;
    start_thread(&thread, pong, NULL);
    double start = now_s();
    for (long i = 0; i < g_round_trips; ++i) hand_over_and_wait(0, 1);
    double pingpong_s = now_s() - start;
    pthread_join(thread, NULL);

    start = now_s();
    for (long i = 0; i < threads; ++i) {
        void* result = NULL;
        start_thread(&thread, nothing, (void*)i);
        if (pthread_join(thread, &result) != 0 || result != (void*)i) {
            printf("FAILED pthread_join of thread %ld\n", i);
            return 1;
        }
    }
    double create_join_s = now_s() - start;

    printf("futex_pingpong_rtt_per_s %.0f\n", (double)g_round_trips / pingpong_s);
    printf("thread_create_join_per_s %.0f\n", (double)threads / create_join_s);
    return 0;
}
