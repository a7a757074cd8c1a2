// The vDSO as programs find and use it: AT_SYSINFO_EHDR points at an ELF image that
// /proc/self/maps names [vdso] (with [vvar] below it); the libc's clock_gettime, gettimeofday,
// time, clock_getres and sched_getcpu (which go through the vDSO) agree with the syscalls
// (monotonic: vDSO <= syscall <= vDSO), clocks the vDSO leaves to the kernel still work, and a
// vDSO call costs far less than a syscall (argv[1] "fast": by the margin KVM gives). Prints
// both costs and "vdso ok", or the first failing check. Built against glibc (static and
// dynamic) and musl.
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAILED line %d: %s (errno %d %s)\n", __LINE__, #cond, errno, strerror(errno)); \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static int64_t ns_of(struct timespec ts) { return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec; }

static int64_t libc_ns(clockid_t clock) {
    struct timespec ts;
    CHECK(clock_gettime(clock, &ts) == 0);
    CHECK(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000);
    return ns_of(ts);
}

static int64_t syscall_ns(clockid_t clock) {
    struct timespec ts;
    CHECK(syscall(SYS_clock_gettime, clock, &ts) == 0);
    return ns_of(ts);
}

// The [vdso] and [vvar] lines of /proc/self/maps: the image starts where AT_SYSINFO_EHDR
// points, read+execute, and the data page is the read-only page just below it.
static void check_maps(unsigned long ehdr) {
    FILE* maps = fopen("/proc/self/maps", "r");
    CHECK(maps != NULL);
    char line[512];
    unsigned long vdso_start = 0, vvar_start = 0, vvar_end = 0;
    while (fgets(line, sizeof line, maps)) {
        unsigned long start, end;
        char perms[5];
        if (sscanf(line, "%lx-%lx %4s", &start, &end, perms) != 3) continue;
        if (strstr(line, "[vdso]")) {
            CHECK(strcmp(perms, "r-xp") == 0);
            vdso_start = start;
        }
        if (strstr(line, "[vvar]")) {
            CHECK(strcmp(perms, "r--p") == 0);
            vvar_start = start;
            vvar_end = end;
        }
    }
    fclose(maps);
    CHECK(vdso_start == ehdr);
    CHECK(vvar_end == vdso_start && vvar_end - vvar_start == 4096);
    // The data page is the kernel's: it can never be made writable.
    errno = 0;
    CHECK(mprotect((void*)vvar_start, 4096, PROT_READ | PROT_WRITE) == -1 && errno == EACCES);
}

// vDSO, syscall, vDSO: the syscall's reading lies between the two vDSO readings.
static void check_clock(clockid_t clock, const char* name) {
    for (int i = 0; i < 100; ++i) {
        int64_t before = libc_ns(clock);
        int64_t kernel = syscall_ns(clock);
        int64_t after = libc_ns(clock);
        if (!(before <= kernel && kernel <= after))
            printf("%s: vdso %lld, syscall %lld, vdso %lld\n", name, (long long)before,
                   (long long)kernel, (long long)after);
        CHECK(before <= kernel && kernel <= after);
        CHECK(after - before < 1000000000);
    }
}

static void check_other_calls(void) {
    struct timeval a, b, c;
    CHECK(gettimeofday(&a, NULL) == 0);
    CHECK(syscall(SYS_gettimeofday, &b, NULL) == 0);
    CHECK(gettimeofday(&c, NULL) == 0);
    int64_t us_a = a.tv_sec * 1000000LL + a.tv_usec, us_b = b.tv_sec * 1000000LL + b.tv_usec,
            us_c = c.tv_sec * 1000000LL + c.tv_usec;
    CHECK(us_a <= us_b && us_b <= us_c && a.tv_usec < 1000000);
    struct timezone tz = {-1, -1};
    CHECK(gettimeofday(&a, &tz) == 0);  // the vDSO hands a time zone to the kernel

    time_t t1 = time(NULL), t2 = syscall(SYS_time, NULL), t3;
    CHECK(time(&t3) == t3);
    CHECK(t1 <= t2 && t2 <= t3 && t3 - t1 <= 1);
    CHECK(t1 > 1600000000);  // the realtime anchor came from the host's wall clock

    struct timespec res = {-1, -1}, kernel_res = {-1, -1};
    CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0);
    CHECK(syscall(SYS_clock_getres, CLOCK_MONOTONIC, &kernel_res) == 0);
    CHECK(res.tv_sec == kernel_res.tv_sec && res.tv_nsec == kernel_res.tv_nsec);
    CHECK(clock_getres(CLOCK_REALTIME, NULL) == 0);

    // Left to the kernel: the CPU-time clocks and ids it does not know.
    struct timespec ts;
    CHECK(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0);
    CHECK(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0);
    CHECK(clock_getres(CLOCK_PROCESS_CPUTIME_ID, &res) == 0);
    errno = 0;
    CHECK(clock_gettime((clockid_t)99, &ts) == -1 && errno == EINVAL);
    errno = 0;
    CHECK(clock_getres((clockid_t)99, &res) == -1 && errno == EINVAL);

    CHECK(sched_getcpu() == 0);
}

// 10^6 calls through the libc (the vDSO) against 10^3 real syscalls. With hardware
// virtualization (`fast`: KVM) ring-0 code is what is slow, so the 10^6 calls must take far
// less time than the 10^3 syscalls; under TCG every instruction is emulated and the vDSO only
// has to be cheaper per call.
static void measure(int fast) {
    enum { kVdsoCalls = 1000000, kSyscalls = 1000 };
    struct timespec ts;
    int64_t start = syscall_ns(CLOCK_MONOTONIC);
    for (int i = 0; i < kVdsoCalls; ++i) clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t vdso_total = syscall_ns(CLOCK_MONOTONIC) - start;
    start = syscall_ns(CLOCK_MONOTONIC);
    for (int i = 0; i < kSyscalls; ++i) syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    int64_t syscall_total = syscall_ns(CLOCK_MONOTONIC) - start;
    double vdso_each = (double)vdso_total / kVdsoCalls;
    double syscall_each = (double)syscall_total / kSyscalls;
    printf(
        "clock_gettime: vdso %.1f ns/call (%d calls, %.1f ms), syscall %.1f ns/call (%d calls, "
        "%.1f ms), ratio %.1f\n",
        vdso_each, kVdsoCalls, vdso_total / 1e6, syscall_each, kSyscalls, syscall_total / 1e6,
        syscall_each / vdso_each);
    if (fast)
        CHECK(vdso_total * 2 < syscall_total);
    else
        CHECK(vdso_each < syscall_each);
}

int main(int argc, char** argv) {
    unsigned long ehdr = getauxval(AT_SYSINFO_EHDR);
    CHECK(ehdr != 0 && ehdr % 4096 == 0);
    CHECK(memcmp((const void*)ehdr, "\177ELF", 4) == 0);
    check_maps(ehdr);
    check_clock(CLOCK_MONOTONIC, "CLOCK_MONOTONIC");
    check_clock(CLOCK_REALTIME, "CLOCK_REALTIME");
    check_clock(CLOCK_BOOTTIME, "CLOCK_BOOTTIME");
    check_clock(CLOCK_MONOTONIC_RAW, "CLOCK_MONOTONIC_RAW");
    check_other_calls();
    measure(argc > 1 && strcmp(argv[1], "fast") == 0);
    printf("vdso ok\n");
    return 0;
}
