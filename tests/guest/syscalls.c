// Checks the foundation syscalls the way a program relies on them; prints "sys ok" only if
// every check passes, otherwise the first failing check.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond)                                                             \
    do {                                                                        \
        if (!(cond)) {                                                          \
            printf("FAILED: %s (line %d, errno %d)\n", #cond, __LINE__, errno); \
            return 1;                                                           \
        }                                                                       \
    } while (0)

int main(int argc, char** argv) {
    (void)argc;
    struct timespec a, b, real;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &a) == 0);
    struct timespec nap = {0, 10 * 1000 * 1000};
    CHECK(nanosleep(&nap, NULL) == 0);
    CHECK(clock_gettime(CLOCK_MONOTONIC, &b) == 0);
    long elapsed_ns = (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
    CHECK(elapsed_ns >= 10 * 1000 * 1000);
    CHECK(elapsed_ns < 2000L * 1000 * 1000);
    CHECK(clock_gettime(CLOCK_REALTIME, &real) == 0);
    struct tm calendar;
    CHECK(gmtime_r(&real.tv_sec, &calendar) != NULL);
    CHECK(calendar.tm_year + 1900 >= 2024);

    unsigned char r1[16] = {0}, r2[16] = {0}, zero[16] = {0};
    CHECK(getrandom(r1, sizeof r1, 0) == 16);
    CHECK(getrandom(r2, sizeof r2, 0) == 16);
    CHECK(memcmp(r1, zero, 16) != 0);
    CHECK(memcmp(r1, r2, 16) != 0);

    struct utsname u;
    CHECK(uname(&u) == 0);
    CHECK(strcmp(u.sysname, "Linux") == 0);
    CHECK(strcmp(u.machine, "x86_64") == 0);

    void* old_brk = sbrk(0);
    CHECK(sbrk(1 << 20) == old_brk);
    memset(old_brk, 0x5a, 1 << 20);
    CHECK(sbrk(-(1 << 20)) != (void*)-1);

    unsigned char* m =
        mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    CHECK(m[12345] == 0);
    m[12345] = 42;
    CHECK(mprotect(m, 4096, PROT_READ) == 0);
    CHECK(m[0] == 0);
    CHECK(mprotect(m, 4096, PROT_READ | PROT_WRITE) == 0);
    m[0] = 1;
    CHECK(munmap(m, 1 << 20) == 0);
    CHECK(mmap((void*)1, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
          MAP_FAILED);
    CHECK(errno == EINVAL);

    char exe[256] = {0};
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    CHECK(n > 0);
    // phx runs the program as "/<file name>": argv[0], AT_EXECFN and /proc/self/exe agree.
    CHECK(exe[0] == '/' && strchr(exe + 1, '/') == NULL);
    CHECK(strcmp(exe, argv[0]) == 0);

    struct winsize ws;
    CHECK(ioctl(1, TIOCGWINSZ, &ws) == 0);  // the console is a terminal
    CHECK(write(1, NULL, 0) == 0);
    volatile long bad_address = 8;
    CHECK(write(1, (void*)bad_address, 10) == -1 && errno == EFAULT);
    CHECK(write(99, "x", 1) == -1 && errno == EBADF);
    puts("sys ok");
    return 0;
}
