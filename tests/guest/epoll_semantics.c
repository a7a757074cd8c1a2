// epoll over pipes, eventfd and signalfd, as on Linux: level-triggered readiness reported
// until drained; edge-triggered once per new write; EPOLLONESHOT disarmed until
// EPOLL_CTL_MOD; EPOLLHUP once the writer closes and EPOLLERR once the reader does; EPOLLOUT
// on a pipe's write end, gone while it is full; EEXIST/ENOENT from epoll_ctl; a closed fd
// leaving the set; epoll_wait with timeout 0, a short timeout that expires (never early),
// and an infinite one woken by a write from another thread; EAGAIN from an empty
// non-blocking pipe; eventfd counter and semaphore modes; poll() and select() agreeing with
// epoll on the same fds; signalfd of a blocked SIGUSR1 readable through epoll. Prints
// "epoll ok" and exits 0, or "FAILED ..." and exits 1.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/signalfd.h>
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

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void add(int ep, int fd, uint32_t events) {
    struct epoll_event event = {.events = events, .data.fd = fd};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &event) == 0);
}

// One epoll_wait(timeout 0): how many events, and the first one's mask for `fd` (0 if none).
static int ready(int ep, int fd, uint32_t* mask) {
    struct epoll_event events[8];
    int n = epoll_wait(ep, events, 8, 0);
    CHECK(n >= 0);
    *mask = 0;
    for (int i = 0; i < n; ++i)
        if (events[i].data.fd == fd) *mask = events[i].events;
    return n;
}

static void new_pipe(int fds[2]) { CHECK(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0); }

static void put(int fd, const char* text) {
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
}

static void level_and_edge(void) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0);
    int lt[2], et[2];
    new_pipe(lt);
    new_pipe(et);
    add(ep, lt[0], EPOLLIN);
    add(ep, et[0], EPOLLIN | EPOLLET);
    uint32_t mask;
    CHECK(ready(ep, lt[0], &mask) == 0);

    put(lt[1], "abc");
    CHECK(ready(ep, lt[0], &mask) == 1 && mask == EPOLLIN);
    CHECK(ready(ep, lt[0], &mask) == 1 && mask == EPOLLIN);  // level: again, still unread
    char buffer[16];
    CHECK(read(lt[0], buffer, 2) == 2);
    CHECK(ready(ep, lt[0], &mask) == 1 && mask == EPOLLIN);  // one byte left
    CHECK(read(lt[0], buffer, sizeof buffer) == 1);
    CHECK(ready(ep, lt[0], &mask) == 0);
    errno = 0;
    CHECK(read(lt[0], buffer, sizeof buffer) == -1 && errno == EAGAIN);

    put(et[1], "x");
    CHECK(ready(ep, et[0], &mask) == 1 && mask == EPOLLIN);
    CHECK(ready(ep, et[0], &mask) == 0);  // edge: reported once although unread
    put(et[1], "y");
    CHECK(ready(ep, et[0], &mask) == 1 && mask == EPOLLIN);  // a new write is a new edge
    CHECK(ready(ep, et[0], &mask) == 0);
    CHECK(read(et[0], buffer, sizeof buffer) == 2);

    // Writer closed: EPOLLHUP, with EPOLLIN while data is left; read then returns 0.
    put(lt[1], "z");
    close(lt[1]);
    CHECK(ready(ep, lt[0], &mask) == 1 && mask == (EPOLLIN | EPOLLHUP));
    CHECK(read(lt[0], buffer, sizeof buffer) == 1);
    CHECK(ready(ep, lt[0], &mask) == 1 && mask == EPOLLHUP);
    CHECK(read(lt[0], buffer, sizeof buffer) == 0);

    struct epoll_event event = {.events = EPOLLIN, .data.fd = et[0]};
    errno = 0;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, et[0], &event) == -1 && errno == EEXIST);
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, et[0], NULL) == 0);
    errno = 0;
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, et[0], &event) == -1 && errno == ENOENT);
    put(et[1], "w");
    CHECK(ready(ep, et[0], &mask) == 1 && mask == 0);  // only lt[0]'s EPOLLHUP is left

    close(lt[0]);  // its last descriptor: it leaves the set
    CHECK(ready(ep, lt[0], &mask) == 0);
    close(et[0]);
    close(et[1]);
    close(ep);
}

static void oneshot(void) {
    int ep = epoll_create1(0);
    int p[2];
    new_pipe(p);
    add(ep, p[0], EPOLLIN | EPOLLONESHOT);
    uint32_t mask;
    put(p[1], "a");
    CHECK(ready(ep, p[0], &mask) == 1 && mask == EPOLLIN);
    CHECK(ready(ep, p[0], &mask) == 0);  // disarmed
    put(p[1], "b");
    CHECK(ready(ep, p[0], &mask) == 0);  // still disarmed
    struct epoll_event event = {.events = EPOLLIN | EPOLLONESHOT, .data.fd = p[0]};
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &event) == 0);
    CHECK(ready(ep, p[0], &mask) == 1 && mask == EPOLLIN);  // re-armed, data still there
    CHECK(ready(ep, p[0], &mask) == 0);
    close(p[0]);
    close(p[1]);
    close(ep);
}

static void write_end(void) {
    int ep = epoll_create1(0);
    int p[2];
    new_pipe(p);
    add(ep, p[1], EPOLLOUT);
    uint32_t mask;
    CHECK(ready(ep, p[1], &mask) == 1 && mask == EPOLLOUT);
    static char block[4096];
    size_t filled = 0;
    for (;;) {
        ssize_t n = write(p[1], block, sizeof block);
        if (n < 0) break;
        filled += (size_t)n;
    }
    CHECK(errno == EAGAIN && filled >= 4096);
    CHECK(ready(ep, p[1], &mask) == 0);  // full
    while (filled > 0) {
        ssize_t n = read(p[0], block, sizeof block);
        CHECK(n > 0);
        filled -= (size_t)n;
    }
    CHECK(ready(ep, p[1], &mask) == 1 && mask == EPOLLOUT);
    close(p[0]);  // no reader left: EPOLLERR (and writes fail with EPIPE)
    CHECK(ready(ep, p[1], &mask) == 1 && (mask & EPOLLERR));
    close(p[1]);
    close(ep);
}

static int g_wake_fd;

static void* write_later(void* unused) {
    (void)unused;
    struct timespec pause = {0, 20 * MS};
    nanosleep(&pause, NULL);
    put(g_wake_fd, "!");
    return NULL;
}

static void timeouts(void) {
    int ep = epoll_create1(0);
    int p[2];
    new_pipe(p);
    add(ep, p[0], EPOLLIN);
    struct epoll_event event;
    CHECK(epoll_wait(ep, &event, 1, 0) == 0);
    long long start = now_ns();
    CHECK(epoll_wait(ep, &event, 1, 30) == 0);
    long long took = now_ns() - start;
    CHECK(took >= 30 * MS && took <= 80 * MS);

    // Blocked with no timeout, woken by another thread's write.
    g_wake_fd = p[1];
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, write_later, NULL) == 0);
    CHECK(epoll_wait(ep, &event, 1, -1) == 1 && event.data.fd == p[0] && event.events == EPOLLIN);
    CHECK(pthread_join(thread, NULL) == 0);
    close(p[0]);
    close(p[1]);
    close(ep);
}

static void eventfds(void) {
    int counter = eventfd(0, EFD_NONBLOCK);
    CHECK(counter >= 0);
    uint64_t value = 3;
    CHECK(write(counter, &value, 8) == 8);
    value = 4;
    CHECK(write(counter, &value, 8) == 8);
    CHECK(read(counter, &value, 8) == 8 && value == 7);  // the sum, and reset to 0
    errno = 0;
    CHECK(read(counter, &value, 8) == -1 && errno == EAGAIN);

    int semaphore = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
    CHECK(semaphore >= 0);
    int ep = epoll_create1(0);
    add(ep, semaphore, EPOLLIN);
    uint32_t mask;
    for (int i = 0; i < 3; ++i) {
        CHECK(ready(ep, semaphore, &mask) == 1 && mask == EPOLLIN);
        CHECK(read(semaphore, &value, 8) == 8 && value == 1);  // one at a time
    }
    CHECK(ready(ep, semaphore, &mask) == 0);
    errno = 0;
    CHECK(read(semaphore, &value, 8) == -1 && errno == EAGAIN);
    close(ep);
    close(semaphore);
    close(counter);
}

// epoll, poll and select asked about the same five fds must give the same answers.
static void agreement(void) {
    int full[2], empty[2];
    new_pipe(full);
    new_pipe(empty);
    put(full[1], "data");
    int zero = eventfd(0, EFD_NONBLOCK), two = eventfd(2, EFD_NONBLOCK);
    CHECK(zero >= 0 && two >= 0);
    struct {
        int fd;
        short events;  // POLLIN or POLLOUT
        int expect;
    } cases[] = {{full[0], POLLIN, 1},
                 {empty[0], POLLIN, 0},
                 {empty[1], POLLOUT, 1},
                 {zero, POLLIN, 0},
                 {two, POLLIN, 1}};
    enum { N = sizeof cases / sizeof cases[0] };

    struct pollfd pfds[N];
    for (int i = 0; i < N; ++i) pfds[i] = (struct pollfd){cases[i].fd, cases[i].events, 0};
    CHECK(poll(pfds, N, 0) == 3);

    fd_set reads, writes;
    FD_ZERO(&reads);
    FD_ZERO(&writes);
    int max = 0;
    for (int i = 0; i < N; ++i) {
        FD_SET(cases[i].fd, cases[i].events == POLLIN ? &reads : &writes);
        if (cases[i].fd > max) max = cases[i].fd;
    }
    struct timeval no_wait = {0, 0};
    CHECK(select(max + 1, &reads, &writes, NULL, &no_wait) == 3);

    int ep = epoll_create1(0);
    for (int i = 0; i < N; ++i)
        add(ep, cases[i].fd, cases[i].events == POLLIN ? EPOLLIN : EPOLLOUT);
    for (int i = 0; i < N; ++i) {
        uint32_t mask;
        ready(ep, cases[i].fd, &mask);
        int by_epoll = mask != 0;
        int by_poll = (pfds[i].revents & cases[i].events) != 0;
        int by_select = FD_ISSET(cases[i].fd, cases[i].events == POLLIN ? &reads : &writes);
        if (by_epoll != cases[i].expect || by_poll != cases[i].expect ||
            by_select != cases[i].expect) {
            printf("FAILED agreement on case %d: expected %d, epoll %d, poll %d, select %d\n", i,
                   cases[i].expect, by_epoll, by_poll, by_select);
            exit(1);
        }
    }
    close(ep);
    int fds[] = {full[0], full[1], empty[0], empty[1], zero, two};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; ++i) close(fds[i]);
}

static void signal_fd(void) {
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    CHECK(sigprocmask(SIG_BLOCK, &usr1, NULL) == 0);
    int sfd = signalfd(-1, &usr1, SFD_NONBLOCK | SFD_CLOEXEC);
    CHECK(sfd >= 0);
    int ep = epoll_create1(0);
    add(ep, sfd, EPOLLIN);
    uint32_t mask;
    CHECK(ready(ep, sfd, &mask) == 0);
    CHECK(raise(SIGUSR1) == 0);
    CHECK(ready(ep, sfd, &mask) == 1 && mask == EPOLLIN);
    struct signalfd_siginfo info;
    CHECK(read(sfd, &info, sizeof info) == sizeof info);
    CHECK(info.ssi_signo == SIGUSR1 && (pid_t)info.ssi_pid == getpid());
    CHECK(ready(ep, sfd, &mask) == 0);
    sigset_t pending;
    CHECK(sigpending(&pending) == 0 && !sigismember(&pending, SIGUSR1));  // consumed
    errno = 0;
    CHECK(read(sfd, &info, sizeof info) == -1 && errno == EAGAIN);
    close(ep);
    close(sfd);
}

int main(void) {
    level_and_edge();
    oneshot();
    write_end();
    timeouts();
    eventfds();
    agreement();
    signal_fd();
    printf("epoll ok\n");
    return 0;
}
