// Waiting on many things, as on Linux: pipes (fstat S_IFIFO, /proc/self/fd names, sizes by
// fcntl, FIONREAD, O_NONBLOCK, EOF, EPIPE, PIPE_BUF atomicity between two writer threads,
// blocking reads and writes woken by another thread, 16 MiB between two threads with a
// checksum), eventfd (blocking, overflow, bad sizes), timerfd (periodic counts, absolute
// times on CLOCK_MONOTONIC and CLOCK_REALTIME, CLOCK_BOOTTIME, the old setting, EAGAIN when
// disarmed), poll/ppoll/select/pselect6 over 1000 descriptors with the timeouts Linux writes
// back, and epoll beyond tests/guest/epoll_semantics.c (EPERM for files, nesting, ELOOP,
// entries living as long as the open file description, level-triggered fairness,
// epoll_pwait2). Prints "readiness ok" and exits 0, or "FAILED ..." and exits 1.
//   readiness sigpipe     writes to a pipe without reader, SIGPIPE not ignored: must die by it
//   readiness stdin-idle  a thread computes while the main thread blocks reading an idle stdin
//   readiness stdin       poll and read a line that is waiting on stdin
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
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
    clock_gettime(clock, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
static long long mono(void) { return now_ns(CLOCK_MONOTONIC); }

static struct timespec ts_of(long long ns) {
    return (struct timespec){ns / 1000000000LL, ns % 1000000000LL};
}

static void on_time(long long took, long long want, const char* what) {
    if (took >= want && took <= want + kLateMs * MS) return;
    printf("FAILED %s: took %lld us, wanted %lld us\n", what, took / 1000, want / 1000);
    exit(1);
}

static void sleep_ms(long ms) {
    struct timespec pause = ts_of(ms * MS);
    nanosleep(&pause, NULL);
}

static pthread_t spawn(void* (*run)(void*), void* arg) {
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, run, arg) == 0);
    return thread;
}

// ---- pipes ----

static void pipe_identity(void) {
    int p[2];
    CHECK(pipe(p) == 0);
    struct stat st;
    CHECK(fstat(p[0], &st) == 0 && S_ISFIFO(st.st_mode));
    ino_t ino = st.st_ino;
    CHECK(fstat(p[1], &st) == 0 && S_ISFIFO(st.st_mode) && st.st_ino == ino);
    char path[64], link[64], expect[64];
    snprintf(expect, sizeof expect, "pipe:[%lu]", (unsigned long)ino);
    for (int i = 0; i < 2; ++i) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", p[i]);
        ssize_t n = readlink(path, link, sizeof link - 1);
        CHECK(n > 0);
        link[n] = 0;
        CHECK(strcmp(link, expect) == 0);
    }
    CHECK((fcntl(p[0], F_GETFL) & O_ACCMODE) == O_RDONLY);
    CHECK((fcntl(p[1], F_GETFL) & O_ACCMODE) == O_WRONLY);
    CHECK(fcntl(p[0], F_GETFD) == 0);
    errno = 0;
    CHECK(write(p[0], "x", 1) == -1 && errno == EBADF);
    char c;
    errno = 0;
    CHECK(read(p[1], &c, 1) == -1 && errno == EBADF);
    errno = 0;
    CHECK(lseek(p[0], 0, SEEK_CUR) == -1 && errno == ESPIPE);
    close(p[0]);
    close(p[1]);

    CHECK(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0);
    CHECK(fcntl(p[0], F_GETFD) == FD_CLOEXEC && (fcntl(p[1], F_GETFL) & O_NONBLOCK));
    close(p[0]);
    close(p[1]);
    errno = 0;
    CHECK(pipe2(p, O_APPEND) == -1 && errno == EINVAL);
    if (pipe2(p, O_DIRECT) == 0) {  // packet mode: Linux has it, Phoenix may refuse it
        close(p[0]);
        close(p[1]);
    } else {
        CHECK(errno == EINVAL);
    }
}

static void pipe_sizes_and_flags(void) {
    int p[2];
    CHECK(pipe(p) == 0);
    CHECK(fcntl(p[0], F_GETPIPE_SZ) == 65536 && fcntl(p[1], F_GETPIPE_SZ) == 65536);
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 100000) == 131072);  // a power of two pages
    CHECK(fcntl(p[0], F_GETPIPE_SZ) == 131072);
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 1) == 4096);
    errno = 0;
    int huge = fcntl(p[1], F_SETPIPE_SZ, 2 << 20);  // over pipe-max-size: root may on Linux
    CHECK(huge == -1 ? errno == EPERM : geteuid() == 0);
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 4096) == 4096);
    CHECK(write(p[1], "hello", 5) == 5);
    int available = -1;
    CHECK(ioctl(p[0], FIONREAD, &available) == 0 && available == 5);
    CHECK(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0 && (fcntl(p[0], F_GETFL) & O_NONBLOCK));
    char buffer[16];
    CHECK(read(p[0], buffer, sizeof buffer) == 5 && memcmp(buffer, "hello", 5) == 0);
    errno = 0;
    CHECK(read(p[0], buffer, sizeof buffer) == -1 && errno == EAGAIN);
    CHECK(fcntl(p[0], F_SETFL, 0) == 0 && !(fcntl(p[0], F_GETFL) & O_NONBLOCK));
    // Content survives a resize; shrinking below it is EBUSY.
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 65536) == 65536);
    static char big[20000];
    memset(big, 'b', sizeof big);
    CHECK(write(p[1], big, sizeof big) == sizeof big);
    errno = 0;
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 4096) == -1 && errno == EBUSY);
    CHECK(fcntl(p[1], F_SETPIPE_SZ, 32768) == 32768);
    CHECK(ioctl(p[0], FIONREAD, &available) == 0 && available == sizeof big);
    static char back[20000];
    size_t got = 0;
    while (got < sizeof back) {
        ssize_t n = read(p[0], back + got, sizeof back - got);
        CHECK(n > 0);
        got += (size_t)n;
    }
    CHECK(memcmp(big, back, sizeof big) == 0);
    close(p[0]);
    close(p[1]);
}

static void pipe_ends(void) {
    int p[2];
    CHECK(pipe(p) == 0);
    CHECK(write(p[1], "ab", 2) == 2);
    close(p[1]);
    char buffer[8];
    CHECK(read(p[0], buffer, sizeof buffer) == 2);
    CHECK(read(p[0], buffer, sizeof buffer) == 0);  // EOF, without blocking
    close(p[0]);

    CHECK(pipe(p) == 0);
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    errno = 0;
    CHECK(write(p[1], "x", 1) == -1 && errno == EPIPE);
    CHECK(write(p[1], "", 0) == 0);  // nothing to write: no EPIPE
    signal(SIGPIPE, SIG_DFL);
    close(p[1]);

    // Non-blocking and full: a write of at most PIPE_BUF goes whole or not at all, a bigger
    // one takes what fits.
    CHECK(pipe2(p, O_NONBLOCK) == 0);
    static char fill[65536 - 100];
    CHECK(write(p[1], fill, sizeof fill) == sizeof fill);
    static char block[5000];
    errno = 0;
    CHECK(write(p[1], block, PIPE_BUF) == -1 && errno == EAGAIN);
    ssize_t n = write(p[1], block, sizeof block);  // Linux merges only a page's tail: EAGAIN
    CHECK(n == -1 ? errno == EAGAIN : n > 0 && n < (ssize_t)sizeof block);
    errno = 0;
    CHECK(write(p[1], block, sizeof block) == -1 && errno == EAGAIN);
    close(p[0]);
    close(p[1]);
}

struct Writer {
    int fd;
    char mark;
    int records;
    int vectored;  // writev of two halves
};

static void* write_records(void* arg) {
    struct Writer* w = arg;
    char record[PIPE_BUF];
    memset(record, w->mark, sizeof record);
    struct iovec halves[2] = {{record, PIPE_BUF / 2}, {record + PIPE_BUF / 2, PIPE_BUF / 2}};
    for (int i = 0; i < w->records; ++i) {
        ssize_t n = w->vectored ? writev(w->fd, halves, 2) : write(w->fd, record, sizeof record);
        CHECK(n == sizeof record);
    }
    return NULL;
}

// Two threads write 4 KiB records into one pipe, one of them with writev: each record arrives
// whole.
static void pipe_atomicity(void) {
    int p[2];
    CHECK(pipe(p) == 0);
    enum { kRecords = 300 };
    struct Writer a = {p[1], 'a', kRecords, 0}, b = {p[1], 'b', kRecords, 1};
    pthread_t ta = spawn(write_records, &a), tb = spawn(write_records, &b);
    int counts[2] = {0, 0};
    char record[PIPE_BUF];
    for (int i = 0; i < 2 * kRecords; ++i) {
        size_t got = 0;
        while (got < sizeof record) {
            ssize_t n = read(p[0], record + got, sizeof record - got);
            CHECK(n > 0);
            got += (size_t)n;
        }
        for (size_t j = 1; j < sizeof record; ++j) CHECK(record[j] == record[0]);
        CHECK(record[0] == 'a' || record[0] == 'b');
        counts[record[0] - 'a']++;
    }
    CHECK(counts[0] == kRecords && counts[1] == kRecords);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    close(p[0]);
    close(p[1]);
}

// Another thread acts on `fd` after `delay_ms`; the waiter checks that it woke at most kLateMs
// after the act began (woken()), whatever thread creation costs.
enum Action { kWriteByte, kReadSome, kClose, kPostFive };
struct Later {
    int fd;
    long delay_ms;
    enum Action action;
    volatile long long acted_at;
};

static void* act_later(void* arg) {
    struct Later* later = arg;
    static char sink[4096];
    memset(sink, 0, sizeof sink);  // faulted in before the clock starts
    sleep_ms(later->delay_ms);
    later->acted_at = mono();
    uint64_t five = 5;
    if (later->action == kWriteByte) CHECK(write(later->fd, "!", 1) == 1);
    if (later->action == kReadSome) CHECK(read(later->fd, sink, sizeof sink) > 0);
    if (later->action == kClose) close(later->fd);
    if (later->action == kPostFive) CHECK(write(later->fd, &five, 8) == 8);
    // Then out of the way: the waiter should not wait for this thread's time slice to end
    // (or for its exit, which frees its stack).
    sleep_ms(100);
    return NULL;
}

// `scan_ns`: what one look at every descriptor of the wait costs (a waiter woken looks again).
static void woken_after_scan(const struct Later* later, const char* what, long long scan_ns) {
    long long late = mono() - later->acted_at;
    if (later->acted_at && late >= 0 && late <= kLateMs * MS + scan_ns) return;
    printf("FAILED %s: woken %lld us after the other thread acted\n", what, late / 1000);
    exit(1);
}

static void woken(const struct Later* later, const char* what) { woken_after_scan(later, what, 0); }

static void pipe_blocking(void) {
    int p[2];
    CHECK(pipe(p) == 0);
    struct Later writer = {p[1], 20, kWriteByte, 0};
    pthread_t t = spawn(act_later, &writer);
    char c;
    CHECK(read(p[0], &c, 1) == 1 && c == '!');
    woken(&writer, "blocking pipe read woken by a write");
    pthread_join(t, NULL);

    // A full pipe: the blocking write goes through once a reader makes room.
    static char fill[65536];
    CHECK(write(p[1], fill, sizeof fill) == sizeof fill);
    struct Later reader = {p[0], 20, kReadSome, 0};
    t = spawn(act_later, &reader);
    CHECK(write(p[1], fill, 100) == 100);
    woken(&reader, "blocking pipe write woken by a read");
    pthread_join(t, NULL);
    close(p[0]);
    close(p[1]);

    // A reader blocked on an empty pipe sees EOF when the last writer closes.
    CHECK(pipe(p) == 0);
    struct Later closer = {p[1], 20, kClose, 0};
    t = spawn(act_later, &closer);
    CHECK(read(p[0], &c, 1) == 0);
    woken(&closer, "blocking pipe read woken by the writer's close");
    pthread_join(t, NULL);
    close(p[0]);
}

enum { kStreamBytes = 16 << 20, kChunk = 65536 };

static uint64_t mix(uint64_t sum, const unsigned char* data, size_t n) {
    for (size_t i = 0; i < n; ++i) sum = (sum ^ data[i]) * 0x100000001b3ULL;
    return sum;
}

static void* produce(void* arg) {
    int fd = *(int*)arg;
    static unsigned char chunk[kChunk];
    uint64_t sum = 0xcbf29ce484222325ULL, state = 42;
    for (size_t sent = 0; sent < kStreamBytes;) {
        for (size_t i = 0; i < sizeof chunk; ++i) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            chunk[i] = (unsigned char)(state >> 56);
        }
        size_t off = 0;
        while (off < sizeof chunk) {
            ssize_t n = write(fd, chunk + off, sizeof chunk - off);
            CHECK(n > 0);
            off += (size_t)n;
        }
        sum = mix(sum, chunk, sizeof chunk);
        sent += sizeof chunk;
    }
    close(fd);
    uint64_t* result = malloc(sizeof *result);
    *result = sum;
    return result;
}

static void pipe_stream(void) {
    int p[2];
    CHECK(pipe(p) == 0);
    long long start = mono();
    pthread_t t = spawn(produce, &p[1]);
    static unsigned char buffer[kChunk];
    uint64_t sum = 0xcbf29ce484222325ULL;
    size_t total = 0;
    for (;;) {
        ssize_t n = read(p[0], buffer, sizeof buffer);
        CHECK(n >= 0);
        if (n == 0) break;
        sum = mix(sum, buffer, (size_t)n);
        total += (size_t)n;
    }
    long long took = mono() - start;
    void* result;
    pthread_join(t, &result);
    CHECK(total == kStreamBytes && sum == *(uint64_t*)result);
    free(result);
    close(p[0]);
    printf("pipe: 16 MiB between two threads in %lld ms (%.1f MiB/s, checksum included)\n",
           took / MS, 16.0 * 1e9 / (double)took);
}

// ---- eventfd ----

static void eventfd_more(void) {
    int fd = eventfd(0, 0);
    CHECK(fd >= 0);
    uint64_t value = 0;
    errno = 0;
    CHECK(read(fd, &value, 4) == -1 && errno == EINVAL);
    errno = 0;
    CHECK(write(fd, &value, 4) == -1 && errno == EINVAL);
    value = UINT64_MAX;
    errno = 0;
    CHECK(write(fd, &value, 8) == -1 && errno == EINVAL);
    char path[64], link[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    CHECK(n > 0);
    link[n] = 0;
    CHECK(strcmp(link, "anon_inode:[eventfd]") == 0);
    close(fd);

    // Overflow: the counter stops at 0xfffffffffffffffe; a write past it waits (or EAGAIN).
    fd = eventfd(0, EFD_NONBLOCK);
    value = 0xfffffffffffffffeULL;
    CHECK(write(fd, &value, 8) == 8);
    value = 1;
    errno = 0;
    CHECK(write(fd, &value, 8) == -1 && errno == EAGAIN);
    struct pollfd pfd = {fd, POLLIN | POLLOUT, 0};
    CHECK(poll(&pfd, 1, 0) == 1 && pfd.revents == POLLIN);
    CHECK(fcntl(fd, F_SETFL, 0) == 0);
    struct Later reader = {fd, 20, kReadSome, 0};
    pthread_t t = spawn(act_later, &reader);
    CHECK(write(fd, &value, 8) == 8);  // blocks until the read takes the count
    woken(&reader, "eventfd write blocked by overflow");
    pthread_join(t, NULL);
    CHECK(read(fd, &value, 8) == 8 && value == 1);
    close(fd);
}

static void eventfd_blocking(void) {
    int fd = eventfd(0, EFD_CLOEXEC);
    CHECK(fd >= 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC);
    struct Later poster = {fd, 20, kPostFive, 0};
    pthread_t t = spawn(act_later, &poster);
    uint64_t value;
    CHECK(read(fd, &value, 8) == 8 && value == 5);
    woken(&poster, "blocking eventfd read");
    pthread_join(t, NULL);
    close(fd);
}

// ---- timerfd ----

static void timerfd_checks(void) {
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    CHECK(fd >= 0);
    struct itimerspec periodic = {ts_of(5 * MS), ts_of(5 * MS)};
    long long start = mono();
    CHECK(timerfd_settime(fd, 0, &periodic, NULL) == 0);
    uint64_t total = 0;
    while (total < 10) {
        uint64_t count = 0;
        CHECK(read(fd, &count, sizeof count) == sizeof count && count >= 1);
        total += count;
    }
    long long took = mono() - start;
    CHECK((long long)total * 5 * MS <= took);
    on_time(took, 50 * MS, "timerfd periods");
    struct itimerspec state, old;
    CHECK(timerfd_gettime(fd, &state) == 0 && state.it_interval.tv_nsec == 5 * MS);
    CHECK(state.it_value.tv_sec == 0 && state.it_value.tv_nsec > 0 &&
          state.it_value.tv_nsec <= 5 * MS);
    // Re-arming returns the old setting and drops unread expirations.
    struct itimerspec once = {{0, 0}, ts_of(1000 * MS)};
    CHECK(timerfd_settime(fd, 0, &once, &old) == 0 && old.it_interval.tv_nsec == 5 * MS);
    CHECK(timerfd_gettime(fd, &state) == 0 && state.it_interval.tv_nsec == 0 &&
          state.it_value.tv_sec == 0 && state.it_value.tv_nsec > 900 * MS);
    struct itimerspec off = {{0, 0}, {0, 0}};
    CHECK(timerfd_settime(fd, 0, &off, NULL) == 0);
    CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
    uint64_t count;
    errno = 0;
    CHECK(read(fd, &count, sizeof count) == -1 && errno == EAGAIN);
    errno = 0;
    CHECK(read(fd, &count, 4) == -1 && errno == EINVAL);
    close(fd);

    const clockid_t clocks[] = {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME};
    for (int i = 0; i < 3; ++i) {
        fd = timerfd_create(clocks[i], 0);
        CHECK(fd >= 0);
        long long deadline = now_ns(clocks[i]) + 20 * MS;
        struct itimerspec at = {{0, 0}, ts_of(deadline)};
        CHECK(timerfd_settime(fd, TFD_TIMER_ABSTIME, &at, NULL) == 0);
        CHECK(read(fd, &count, sizeof count) == sizeof count && count == 1);
        on_time(now_ns(clocks[i]) - deadline + 20 * MS, 20 * MS, "timerfd TFD_TIMER_ABSTIME");
        CHECK(timerfd_gettime(fd, &state) == 0 && state.it_value.tv_sec == 0 &&
              state.it_value.tv_nsec == 0);
        close(fd);
    }
    // Missed periods count: a timer left unread for 50 ms of 10 ms periods reads about 5.
    fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct itimerspec every10 = {ts_of(10 * MS), ts_of(10 * MS)};
    CHECK(timerfd_settime(fd, 0, &every10, NULL) == 0);
    sleep_ms(55);
    CHECK(read(fd, &count, sizeof count) == sizeof count && count >= 5 && count <= 10);
    close(fd);

    errno = 0;
    CHECK(timerfd_create(12345, 0) == -1 && errno == EINVAL);
    errno = 0;
    CHECK(timerfd_create(CLOCK_MONOTONIC, 0x4) == -1 && errno == EINVAL);
    errno = 0;
    CHECK(timerfd_gettime(0, &state) == -1 && errno == EINVAL);  // not a timerfd
    fd = timerfd_create(CLOCK_MONOTONIC, 0);
    struct itimerspec bad = {{0, 0}, {0, 1000000000}};
    errno = 0;
    CHECK(timerfd_settime(fd, 0, &bad, NULL) == -1 && errno == EINVAL);
    close(fd);
}

// ---- poll and select over many descriptors ----

enum { kPipes = 500 };  // 1000 descriptors
static int g_pipes[kPipes][2];
static int g_highest;

static void drain(int fd) {
    char buffer[64];
    while (read(fd, buffer, sizeof buffer) > 0) {
    }
}

static void many_fds(void) {
    for (int i = 0; i < kPipes; ++i) {
        CHECK(pipe2(g_pipes[i], O_NONBLOCK) == 0);
        if (g_pipes[i][1] > g_highest) g_highest = g_pipes[i][1];
    }
    CHECK(g_highest < FD_SETSIZE);
    fd_set reads, writes;
    FD_ZERO(&reads);
    FD_ZERO(&writes);
    for (int i = 0; i < kPipes; ++i) {
        FD_SET(g_pipes[i][0], &reads);
        FD_SET(g_pipes[i][1], &writes);
    }
    fd_set r = reads, w = writes;
    struct timeval zero = {0, 0};
    long long start = mono();
    CHECK(select(g_highest + 1, &r, &w, NULL, &zero) == kPipes);  // every write end
    long long select_ns = mono() - start;
    for (int i = 0; i < kPipes; ++i)
        CHECK(!FD_ISSET(g_pipes[i][0], &r) && FD_ISSET(g_pipes[i][1], &w));

    CHECK(write(g_pipes[250][1], "x", 1) == 1);
    r = reads;
    CHECK(select(g_highest + 1, &r, NULL, NULL, &zero) == 1 && FD_ISSET(g_pipes[250][0], &r));
    drain(g_pipes[250][0]);

    // Blocking select over 500 read ends, woken by a write to the highest one; the timeout
    // left is written back.
    r = reads;
    struct timeval second = {1, 0};
    struct Later highest = {g_pipes[kPipes - 1][1], 20, kWriteByte, 0};
    pthread_t t = spawn(act_later, &highest);
    CHECK(select(g_highest + 1, &r, NULL, NULL, &second) == 1);
    woken_after_scan(&highest, "select woken by a write", select_ns);
    CHECK(FD_ISSET(g_pipes[kPipes - 1][0], &r));
    CHECK(second.tv_sec == 0 && second.tv_usec > 800000 && second.tv_usec < 1000000);
    pthread_join(t, NULL);
    drain(g_pipes[kPipes - 1][0]);

    struct pollfd* pfds = calloc(2 * kPipes, sizeof *pfds);
    for (int i = 0; i < kPipes; ++i) {
        pfds[2 * i] = (struct pollfd){g_pipes[i][0], POLLIN, 0};
        pfds[2 * i + 1] = (struct pollfd){g_pipes[i][1], POLLOUT, 0};
    }
    start = mono();
    CHECK(poll(pfds, 2 * kPipes, 0) == kPipes);
    long long poll_ns = mono() - start;
    CHECK(write(g_pipes[100][1], "y", 1) == 1);
    CHECK(poll(pfds, 2 * kPipes, 0) == kPipes + 1 && pfds[200].revents == POLLIN);
    drain(g_pipes[100][0]);
    for (int i = 0; i < kPipes; ++i) pfds[2 * i + 1].fd = -1;  // ignored from now on
    highest.acted_at = 0;
    t = spawn(act_later, &highest);
    CHECK(poll(pfds, 2 * kPipes, 1000) == 1 && pfds[2 * kPipes - 2].revents == POLLIN);
    woken_after_scan(&highest, "poll woken by a write", poll_ns);
    pthread_join(t, NULL);
    drain(g_pipes[kPipes - 1][0]);

    int ep = epoll_create1(0);
    for (int i = 0; i < kPipes; ++i) {
        struct epoll_event event = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, g_pipes[i][0], &event) == 0);
    }
    struct epoll_event got[4];
    CHECK(epoll_wait(ep, got, 4, 0) == 0);
    highest.acted_at = 0;
    t = spawn(act_later, &highest);
    CHECK(epoll_wait(ep, got, 4, 1000) == 1 && got[0].data.u32 == kPipes - 1);
    woken(&highest, "epoll_wait over 500 pipes woken by a write");
    pthread_join(t, NULL);
    close(ep);
    free(pfds);
    for (int i = 0; i < kPipes; ++i) {
        close(g_pipes[i][0]);
        close(g_pipes[i][1]);
    }
    printf("select over 1000 fds: %lld us, poll over 1000 fds: %lld us\n", select_ns / 1000,
           poll_ns / 1000);
}

static void poll_details(void) {
    int p[2];
    CHECK(pipe(p) == 0);
    int closed = 999;  // never opened here
    struct pollfd pfds[3] = {{p[0], POLLIN, 0}, {-1, POLLIN, 0}, {closed, POLLIN, 0}};
    CHECK(poll(pfds, 3, 0) == 1 && pfds[0].revents == 0 && pfds[1].revents == 0 &&
          pfds[2].revents == POLLNVAL);
    long long start = mono();
    CHECK(poll(pfds, 2, 30) == 0);
    on_time(mono() - start, 30 * MS, "poll timeout");
    close(p[1]);
    CHECK(poll(pfds, 1, 0) == 1 && pfds[0].revents == POLLHUP);  // POLLHUP without asking
    close(p[0]);

    CHECK(pipe(p) == 0);
    close(p[0]);
    pfds[0] = (struct pollfd){p[1], POLLOUT, 0};
    CHECK(poll(pfds, 1, 0) == 1 && (pfds[0].revents & POLLERR));
    close(p[1]);

    // The raw ppoll and pselect6 write back the time left; a closed fd in a set is EBADF.
    CHECK(pipe(p) == 0);
    struct timespec left = ts_of(30 * MS);
    pfds[0] = (struct pollfd){p[0], POLLIN, 0};
    CHECK(syscall(SYS_ppoll, pfds, 1, &left, NULL, 8) == 0);
    CHECK(left.tv_sec == 0 && left.tv_nsec == 0);
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    left = ts_of(30 * MS);
    start = mono();
    CHECK(syscall(SYS_pselect6, p[0] + 1, &r, NULL, NULL, &left, NULL) == 0);
    on_time(mono() - start, 30 * MS, "pselect6 timeout");
    CHECK(left.tv_sec == 0 && left.tv_nsec == 0 && !FD_ISSET(p[0], &r));
    struct timeval tv = {0, 30000};
    FD_SET(p[0], &r);
    CHECK(select(p[0] + 1, &r, NULL, NULL, &tv) == 0 && tv.tv_sec == 0 && tv.tv_usec == 0);
    FD_ZERO(&r);
    FD_SET(closed, &r);
    errno = 0;
    CHECK(select(closed + 1, &r, NULL, NULL, NULL) == -1 && errno == EBADF);
    errno = 0;
    CHECK(select(-1, NULL, NULL, NULL, NULL) == -1 && errno == EINVAL);
    sigset_t none;
    sigemptyset(&none);
    CHECK(ppoll(pfds, 1, &(struct timespec){0, 0}, &none) == 0);
    errno = 0;
    CHECK(syscall(SYS_ppoll, pfds, 1, NULL, &none, 4) == -1 && errno == EINVAL);
    close(p[0]);
    close(p[1]);
}

// ---- epoll beyond epoll_semantics.c ----

static int epoll_count(int ep, struct epoll_event* events, int max) {
    int n = epoll_wait(ep, events, max, 0);
    CHECK(n >= 0);
    return n;
}

static void epoll_more(void) {
    errno = 0;
    CHECK(epoll_create(0) == -1 && errno == EINVAL);
    int ep = epoll_create(1);
    CHECK(ep >= 0);
    int file = open("/tmp/readiness-file", O_CREAT | O_RDWR, 0600);
    CHECK(file >= 0);
    struct epoll_event event = {.events = EPOLLIN, .data.u64 = 0x1122334455667788ULL};
    errno = 0;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, file, &event) == -1 && errno == EPERM);
    errno = 0;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &event) == -1 && errno == EINVAL);
    struct pollfd regular = {file, POLLIN | POLLOUT, 0};
    CHECK(poll(&regular, 1, 0) == 1 && regular.revents == (POLLIN | POLLOUT));
    close(file);
    unlink("/tmp/readiness-file");

    // Data passes through; an entry lives as long as the description, not the fd.
    int p[2];
    CHECK(pipe2(p, O_NONBLOCK) == 0);
    int copy = dup(p[0]);
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &event) == 0);
    CHECK(write(p[1], "d", 1) == 1);
    struct epoll_event got[4];
    CHECK(epoll_count(ep, got, 4) == 1 && got[0].data.u64 == 0x1122334455667788ULL);
    close(p[0]);  // the description lives on in `copy`: still reported
    CHECK(epoll_count(ep, got, 4) == 1 && got[0].data.u64 == 0x1122334455667788ULL);
    errno = 0;
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL) == -1 && errno == EBADF);
    close(copy);  // the last one: the entry goes
    CHECK(epoll_count(ep, got, 4) == 0);
    errno = 0;
    CHECK(epoll_wait(ep, got, 0, 0) == -1 && errno == EINVAL);

    // The same description under two fds: two entries.
    CHECK(pipe2(p, O_NONBLOCK) == 0);
    copy = dup(p[0]);
    event.events = EPOLLIN;
    event.data.fd = p[0];
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &event) == 0);
    event.data.fd = copy;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, copy, &event) == 0);
    CHECK(write(p[1], "e", 1) == 1);
    CHECK(epoll_count(ep, got, 4) == 2);
    event.events = EPOLLIN | EPOLLEXCLUSIVE;
    errno = 0;
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, copy, &event) == -1 && errno == EINVAL);
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, copy, NULL) == 0);
    close(copy);

    // Level-triggered entries take turns when maxevents is smaller than what is ready.
    int q[2];
    CHECK(pipe2(q, O_NONBLOCK) == 0);
    event.events = EPOLLIN;
    event.data.fd = q[0];
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &event) == 0);
    CHECK(write(q[1], "f", 1) == 1);
    CHECK(epoll_count(ep, got, 1) == 1);
    int first = got[0].data.fd;
    CHECK(epoll_count(ep, got, 1) == 1 && got[0].data.fd != first);
    CHECK(epoll_count(ep, got, 1) == 1 && got[0].data.fd == first);

    // Nesting: an epoll in an epoll is readable when the inner one has events; ELOOP for a
    // cycle. poll() on an epoll fd agrees.
    int outer = epoll_create1(EPOLL_CLOEXEC);
    event.events = EPOLLIN;
    event.data.fd = ep;
    CHECK(epoll_ctl(outer, EPOLL_CTL_ADD, ep, &event) == 0);
    CHECK(epoll_count(outer, got, 4) == 1 && got[0].data.fd == ep && got[0].events == EPOLLIN);
    event.data.fd = outer;
    errno = 0;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, outer, &event) == -1 && errno == ELOOP);
    struct pollfd pfd = {ep, POLLIN, 0};
    CHECK(poll(&pfd, 1, 0) == 1 && pfd.revents == POLLIN);
    drain(p[0]);
    drain(q[0]);
    CHECK(epoll_count(ep, got, 4) == 0);
    CHECK(poll(&pfd, 1, 0) == 0);
    CHECK(epoll_count(outer, got, 4) == 0);
    // The inner one woken through the outer one by another thread.
    struct Later writer = {q[1], 20, kWriteByte, 0};
    pthread_t t = spawn(act_later, &writer);
    CHECK(epoll_wait(outer, got, 4, 1000) == 1 && got[0].data.fd == ep);
    woken(&writer, "nested epoll woken by a write");
    pthread_join(t, NULL);

    // epoll_pwait2: a timespec timeout, never early.
    drain(q[0]);
    struct timespec timeout = ts_of(25 * MS);
    long long start = mono();
    CHECK(syscall(SYS_epoll_pwait2, ep, got, 4, &timeout, NULL, 8) == 0);
    on_time(mono() - start, 25 * MS, "epoll_pwait2 timeout");
    sigset_t none;
    sigemptyset(&none);
    CHECK(epoll_pwait(ep, got, 4, 0, &none) == 0);

    // A timerfd in epoll, edge-triggered.
    int timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    event.events = EPOLLIN | EPOLLET;
    event.data.fd = timer;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, timer, &event) == 0);
    struct itimerspec soon = {{0, 0}, ts_of(20 * MS)};
    start = mono();
    CHECK(timerfd_settime(timer, 0, &soon, NULL) == 0);
    CHECK(epoll_wait(ep, got, 4, 1000) == 1 && got[0].data.fd == timer);
    on_time(mono() - start, 20 * MS, "epoll_wait on a timerfd");
    CHECK(epoll_count(ep, got, 4) == 0);  // edge: once
    close(timer);
    close(outer);
    close(ep);
    close(p[0]);
    close(p[1]);
    close(q[0]);
    close(q[1]);
}

// ---- modes ----

static void die_by_sigpipe(void) {
    int p[2];
    CHECK(pipe(p) == 0);
    close(p[0]);
    printf("writing to a pipe without a reader\n");
    fflush(stdout);
    write(p[1], "x", 1);
    printf("FAILED: still alive after SIGPIPE\n");
    exit(1);
}

static long long g_alone_ns;

// Ring-3 work of a fixed size (no syscalls): how long it takes shows how much of the CPU the
// thread got. The best of five, against a host busy with other things (a busy host showed
// one run of the same work take twice as long as the next).
static long long work_ns(void) {
    long long best = 0;
    for (int round = 0; round < 5; ++round) {
        long long start = mono();
        volatile uint64_t state = 1;
        for (long i = 0; i < 50000000; ++i) state = state * 6364136223846793005ULL + 1;
        long long took = mono() - start;
        if (round == 0 || took < best) best = took;
    }
    return best;
}

// A reader that spun in the kernel would never let this thread run at all; one that merely
// yielded would halve its share. Polling at PolledBackoff's pace costs a few percent; the
// bound leaves room for a noisy host.
static void* compute_then_exit(void* unused) {
    (void)unused;
    sleep_ms(50);  // the main thread is blocked in read by now
    long long shared = work_ns();
    printf(
        "stdin-idle: the same work took %lld ms beside a blocked console reader, %lld ms alone\n",
        shared / MS, g_alone_ns / MS);
    if (shared * 10 > g_alone_ns * 16) {
        printf("FAILED: the blocked console reader took over a third of the CPU\n");
        exit(1);
    }
    printf("readiness ok\n");
    fflush(stdout);
    _exit(0);
}

static void stdin_idle(void) {
    g_alone_ns = work_ns();
    spawn(compute_then_exit, NULL);
    char c;
    ssize_t n = read(0, &c, 1);  // nothing comes: blocks until the other thread exits
    printf("FAILED: read of an idle stdin returned %zd\n", n);
    exit(1);
}

static void stdin_line(void) {
    struct pollfd pfd = {0, POLLIN, 0};
    CHECK(poll(&pfd, 1, 5000) == 1 && (pfd.revents & POLLIN));
    char line[128];
    CHECK(fgets(line, sizeof line, stdin) != NULL);
    line[strcspn(line, "\r\n")] = 0;
    printf("stdin: %s\n", line);
    printf("readiness ok\n");
}

int main(int argc, char** argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "sigpipe") == 0) die_by_sigpipe();
    if (argc > 1 && strcmp(argv[1], "stdin-idle") == 0) stdin_idle();
    if (argc > 1 && strcmp(argv[1], "stdin") == 0) {
        stdin_line();
        return 0;
    }
    pipe_identity();
    pipe_sizes_and_flags();
    pipe_ends();
    pipe_atomicity();
    pipe_blocking();
    pipe_stream();
    eventfd_more();
    eventfd_blocking();
    timerfd_checks();
    many_fds();
    poll_details();
    epoll_more();
    printf("readiness ok\n");
    return 0;
}
