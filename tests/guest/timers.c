// Clocks, sleeps and timers as a program sees them on Linux: CLOCK_REALTIME, gettimeofday
// and time agreeing and CLOCK_MONOTONIC never going back; nanosleep and clock_nanosleep
// (relative, and TIMER_ABSTIME on both clocks) never early and at most kLateMs late;
// setitimer(ITIMER_REAL) periodic SIGALRMs and getitimer; alarm(); POSIX timers with
// SIGEV_SIGNAL (taken with sigwaitinfo: SI_TIMER, the sigev_value) and SIGEV_THREAD_ID (the
// signal goes to that thread, not to the main thread that leaves it unblocked); timerfd
// periodic reads of expiration counts, TFD_TIMER_ABSTIME and EAGAIN when disarmed. Late by
// kLateMs is tolerated (slow hosts), early never. Prints "timers ok" and exits 0, or
// "FAILED ..." and exits 1.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAILED line %d: %s (errno %d %s)\n", __LINE__, #cond, errno, strerror(errno)); \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define MS (1000LL * 1000)
static const long long kLateMs = 50;

static long long now_ns(clockid_t clock) {
    struct timespec ts;
    CHECK(clock_gettime(clock, &ts) == 0);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct timespec ts_of(long long ns) {
    return (struct timespec){ns / 1000000000LL, ns % 1000000000LL};
}

// `took_ns` for something that should take `want_ns`: never less, at most kLateMs more.
static void on_time(long long took_ns, long long want_ns, const char* what) {
    if (took_ns >= want_ns && took_ns <= want_ns + kLateMs * MS) return;
    printf("FAILED %s: took %lld us, wanted %lld us (+%lld ms at most)\n", what, took_ns / 1000,
           want_ns / 1000, kLateMs);
    exit(1);
}

static void clocks(void) {
    for (int i = 0; i < 3; ++i) {
        long long before = now_ns(CLOCK_REALTIME);
        struct timeval tv;
        CHECK(gettimeofday(&tv, NULL) == 0);
        time_t seconds = time(NULL);
        long long after = now_ns(CLOCK_REALTIME);
        long long tv_ns = tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL;
        CHECK(before / 1000 <= tv_ns / 1000 && tv_ns <= after);
        // time() may read the clock as of the last tick: up to one second behind at a boundary.
        CHECK(before / 1000000000LL <= seconds + 1 && seconds <= after / 1000000000LL);
    }
    CHECK(now_ns(CLOCK_REALTIME) > 1577836800LL * 1000000000LL);  // after 2020: an RTC was read
    long long last = now_ns(CLOCK_MONOTONIC);
    for (int i = 0; i < 1000; ++i) {
        long long t = now_ns(CLOCK_MONOTONIC);
        CHECK(t >= last);
        last = t;
    }
    struct timespec res;
    CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0 &&
          res.tv_nsec <= 1000000);
}

static void sleeps(void) {
    long long start = now_ns(CLOCK_MONOTONIC);
    struct timespec want = ts_of(20 * MS);
    CHECK(nanosleep(&want, NULL) == 0);
    on_time(now_ns(CLOCK_MONOTONIC) - start, 20 * MS, "nanosleep 20 ms");

    start = now_ns(CLOCK_MONOTONIC);
    want = ts_of(15 * MS);
    CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &want, NULL) == 0);
    on_time(now_ns(CLOCK_MONOTONIC) - start, 15 * MS, "clock_nanosleep relative 15 ms");

    const clockid_t clocks[] = {CLOCK_MONOTONIC, CLOCK_REALTIME};
    for (int i = 0; i < 2; ++i) {
        long long deadline = now_ns(clocks[i]) + 25 * MS;
        struct timespec at = ts_of(deadline);
        CHECK(clock_nanosleep(clocks[i], TIMER_ABSTIME, &at, NULL) == 0);
        on_time(now_ns(clocks[i]) - deadline + 25 * MS, 25 * MS, "clock_nanosleep TIMER_ABSTIME");
    }
    // A deadline already past returns at once. (1 ns after boot: the monotonic clock starts
    // at boot, and inside Phoenix this runs well within a second of it, so `now - 1 s` would
    // be negative, which is EINVAL.)
    struct timespec past = {0, 1};
    CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL) == 0);
}

static volatile sig_atomic_t g_alarms;

static void on_alarm(int signo) {
    (void)signo;
    g_alarms++;
}

// Waits in sigsuspend (with every signal allowed) until g_alarms reaches `count`.
static void wait_alarms(int count) {
    sigset_t none;
    sigemptyset(&none);
    while (g_alarms < count) sigsuspend(&none);
}

static void interval_timer(void) {
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    CHECK(sigprocmask(SIG_BLOCK, &alrm, NULL) == 0);  // no alarm lost between check and suspend
    CHECK(signal(SIGALRM, on_alarm) != SIG_ERR);

    g_alarms = 0;
    struct itimerval every_10ms = {{0, 10000}, {0, 10000}};
    long long start = now_ns(CLOCK_MONOTONIC);
    CHECK(setitimer(ITIMER_REAL, &every_10ms, NULL) == 0);
    wait_alarms(5);
    long long took = now_ns(CLOCK_MONOTONIC) - start;
    struct itimerval left;
    CHECK(getitimer(ITIMER_REAL, &left) == 0);
    CHECK(left.it_interval.tv_usec == 10000 && left.it_value.tv_usec <= 10000);
    struct itimerval off = {{0, 0}, {0, 0}};
    CHECK(setitimer(ITIMER_REAL, &off, NULL) == 0);
    on_time(took, 50 * MS, "5 ITIMER_REAL periods of 10 ms");

    g_alarms = 0;
    CHECK(alarm(10) == 0);
    start = now_ns(CLOCK_MONOTONIC);
    CHECK(alarm(1) >= 9);  // replaces the first, returning what it had left
    wait_alarms(1);
    on_time(now_ns(CLOCK_MONOTONIC) - start, 1000 * MS, "alarm(1)");
    CHECK(sigprocmask(SIG_UNBLOCK, &alrm, NULL) == 0);
}

#define TIMER_PERIOD_MS 5
#define EXPIRATIONS 10

static void posix_timer_signal(void) {
    int signo = SIGRTMIN;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0);
    struct sigevent event;
    memset(&event, 0, sizeof event);
    event.sigev_notify = SIGEV_SIGNAL;
    event.sigev_signo = signo;
    event.sigev_value.sival_int = 1234;
    timer_t timer;
    CHECK(timer_create(CLOCK_MONOTONIC, &event, &timer) == 0);
    struct itimerspec periodic = {ts_of(TIMER_PERIOD_MS * MS), ts_of(TIMER_PERIOD_MS * MS)};
    long long start = now_ns(CLOCK_MONOTONIC);
    CHECK(timer_settime(timer, 0, &periodic, NULL) == 0);
    int expirations = 0;
    while (expirations < EXPIRATIONS) {
        siginfo_t info;
        CHECK(sigwaitinfo(&set, &info) == signo);
        CHECK(info.si_code == SI_TIMER && info.si_value.sival_int == 1234);
        expirations += 1 + timer_getoverrun(timer);
    }
    long long took = now_ns(CLOCK_MONOTONIC) - start;
    struct itimerspec state;
    CHECK(timer_gettime(timer, &state) == 0);
    CHECK(state.it_interval.tv_nsec == TIMER_PERIOD_MS * MS && state.it_value.tv_nsec > 0);
    CHECK(timer_delete(timer) == 0);
    on_time(took, expirations * TIMER_PERIOD_MS * MS, "timer_create SIGEV_SIGNAL periods");
    CHECK(sigprocmask(SIG_UNBLOCK, &set, NULL) == 0);
}

static volatile sig_atomic_t g_wrong_thread;
static void on_main_thread(int signo) {
    (void)signo;
    g_wrong_thread++;
}

static pthread_mutex_t g_tid_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_tid_known = PTHREAD_COND_INITIALIZER;
static pid_t g_thread_tid;
static timer_t g_thread_timer;

// Publishes its tid, then takes EXPIRATIONS timer signals (blocked here, inherited mask) and
// deletes the timer itself: once this thread is gone, where its signal goes is not ours to
// test.
static void* timer_thread(void* arg) {
    int signo = *(int*)arg;
    pthread_mutex_lock(&g_tid_lock);
    g_thread_tid = gettid();
    pthread_cond_signal(&g_tid_known);
    pthread_mutex_unlock(&g_tid_lock);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    int expirations = 0;
    while (expirations < EXPIRATIONS) {
        siginfo_t info;
        CHECK(sigwaitinfo(&set, &info) == signo);
        CHECK(info.si_code == SI_TIMER);
        expirations += 1 + info.si_overrun;
    }
    CHECK(timer_delete(g_thread_timer) == 0);
    return NULL;
}

static void posix_timer_thread(void) {
    int signo = SIGRTMIN + 1;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0);
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, timer_thread, &signo) == 0);
    pthread_mutex_lock(&g_tid_lock);
    while (g_thread_tid == 0) pthread_cond_wait(&g_tid_known, &g_tid_lock);
    pthread_mutex_unlock(&g_tid_lock);
    // A process-directed signal would now come here, to the one thread not blocking it.
    CHECK(signal(signo, on_main_thread) != SIG_ERR);
    CHECK(sigprocmask(SIG_UNBLOCK, &set, NULL) == 0);

    struct sigevent event;
    memset(&event, 0, sizeof event);
    event.sigev_notify = SIGEV_THREAD_ID;
    event.sigev_signo = signo;
    event._sigev_un._tid = g_thread_tid;  // sigev_notify_thread_id, which glibc 2.36 lacks
    CHECK(timer_create(CLOCK_MONOTONIC, &event, &g_thread_timer) == 0);
    struct itimerspec periodic = {ts_of(TIMER_PERIOD_MS * MS), ts_of(TIMER_PERIOD_MS * MS)};
    CHECK(timer_settime(g_thread_timer, 0, &periodic, NULL) == 0);
    CHECK(pthread_join(thread, NULL) == 0);
    CHECK(g_wrong_thread == 0);
}

static void timer_fd(void) {
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    CHECK(fd >= 0);
    struct itimerspec periodic = {ts_of(TIMER_PERIOD_MS * MS), ts_of(TIMER_PERIOD_MS * MS)};
    long long start = now_ns(CLOCK_MONOTONIC);
    CHECK(timerfd_settime(fd, 0, &periodic, NULL) == 0);
    uint64_t total = 0;
    while (total < EXPIRATIONS) {
        uint64_t count = 0;
        CHECK(read(fd, &count, sizeof count) == sizeof count);
        CHECK(count >= 1);
        total += count;
    }
    long long took = now_ns(CLOCK_MONOTONIC) - start;
    // Expirations counted so far can never be more than the time allows.
    CHECK((long long)total * TIMER_PERIOD_MS * MS <= took);
    on_time(took, EXPIRATIONS * TIMER_PERIOD_MS * MS, "timerfd periods");
    struct itimerspec state;
    CHECK(timerfd_gettime(fd, &state) == 0);
    CHECK(state.it_interval.tv_nsec == TIMER_PERIOD_MS * MS);

    // One shot at an absolute time, then disarmed: a non-blocking read finds nothing.
    long long deadline = now_ns(CLOCK_MONOTONIC) + 20 * MS;
    struct itimerspec once = {{0, 0}, ts_of(deadline)};
    CHECK(timerfd_settime(fd, TFD_TIMER_ABSTIME, &once, NULL) == 0);
    uint64_t count = 0;
    CHECK(read(fd, &count, sizeof count) == sizeof count && count == 1);
    on_time(now_ns(CLOCK_MONOTONIC) - deadline + 20 * MS, 20 * MS, "timerfd TFD_TIMER_ABSTIME");
    CHECK(timerfd_gettime(fd, &state) == 0 && state.it_value.tv_sec == 0 &&
          state.it_value.tv_nsec == 0);
    close(fd);

    fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    CHECK(fd >= 0);
    errno = 0;
    CHECK(read(fd, &count, sizeof count) == -1 && errno == EAGAIN);
    close(fd);
}

int main(void) {
    clocks();
    sleeps();
    interval_timer();
    posix_timer_signal();
    posix_timer_thread();
    timer_fd();
    printf("timers ok\n");
    return 0;
}
