// /dev and /proc as glibc and language runtimes use them: the memory and random devices
// (read, write, stat with Linux's device numbers, lseek, poll, mmap of /dev/zero), the
// standard-stream links, /dev/shm for shm_open, the console as a tty ttyname() can name;
// /proc/self's exe, cwd, fd, maps, status, stat, cmdline, environ, comm, auxv and mounts,
// /proc's cpuinfo, meminfo, uptime and sys/ files, and glibc's own readers (sysconf,
// getauxval, ttyname). Prints "dev proc ok" and exits 0, or prints the first failing check
// and exits 1.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

static const char* g_where = "";

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            printf("FAILED [%s] line %d: %s (errno %d %s)\n", g_where, __LINE__, #cond, errno, \
                   strerror(errno));                                                           \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

#define FAILS(call, err)       \
    do {                       \
        errno = 0;             \
        CHECK((call) == -1);   \
        CHECK(errno == (err)); \
    } while (0)

static char g_text[256 * 1024];

// The whole of a (generated) file, NUL-terminated; returns its length.
static size_t slurp(const char* path) {
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    size_t length = 0;
    for (;;) {
        ssize_t n = read(fd, g_text + length, sizeof g_text - 1 - length);
        CHECK(n >= 0);
        if (n == 0) break;
        length += (size_t)n;
        CHECK(length < sizeof g_text - 1);
    }
    g_text[length] = 0;
    CHECK(close(fd) == 0);
    return length;
}

static void expect_link(const char* path, const char* target) {
    char buffer[4096];
    ssize_t n = readlink(path, buffer, sizeof buffer - 1);
    CHECK(n > 0);
    buffer[n] = 0;
    if (strcmp(buffer, target) != 0) printf("%s -> '%s', expected '%s'\n", path, buffer, target);
    CHECK(strcmp(buffer, target) == 0);
}

static void expect_device(const char* path, unsigned major_number, unsigned minor_number) {
    g_where = path;
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
    CHECK(major(st.st_rdev) == major_number && minor(st.st_rdev) == minor_number);
}

static void memory_devices(void) {
    g_where = "/dev/zero";
    static char buffer[4096];  // Phoenix moves at most 4 KiB per read (a short read is allowed)
    int zero = open("/dev/zero", O_RDWR);
    CHECK(zero >= 0);
    memset(buffer, 0xaa, sizeof buffer);
    CHECK(read(zero, buffer, sizeof buffer) == sizeof buffer);
    for (size_t i = 0; i < sizeof buffer; ++i) CHECK(buffer[i] == 0);
    CHECK(write(zero, "x", 1) == 1);
    CHECK(lseek(zero, 123, SEEK_SET) == 0);
    struct stat st;
    CHECK(fstat(zero, &st) == 0 && S_ISCHR(st.st_mode) && minor(st.st_rdev) == 5);
    char* private_map = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, zero, 0);
    CHECK(private_map != MAP_FAILED);
    CHECK(private_map[0] == 0 && private_map[3 * 4096 - 1] == 0);
    private_map[4096] = 7;
    CHECK(private_map[4096] == 7);
    char* shared_map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, zero, 0);
    CHECK(shared_map != MAP_FAILED && shared_map[100] == 0);
    shared_map[100] = 1;
    CHECK(munmap(private_map, 3 * 4096) == 0 && munmap(shared_map, 4096) == 0);
    CHECK(close(zero) == 0);

    g_where = "/dev/null";
    int null = open("/dev/null", O_RDWR);
    CHECK(null >= 0);
    CHECK(read(null, buffer, sizeof buffer) == 0);
    CHECK(write(null, buffer, sizeof buffer) == sizeof buffer);
    CHECK(lseek(null, 0, SEEK_END) == 0);
    struct pollfd ready = {.fd = null, .events = POLLIN | POLLOUT};
    CHECK(poll(&ready, 1, 0) == 1 && (ready.revents & (POLLIN | POLLOUT)) == (POLLIN | POLLOUT));
    FAILS(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, null, 0) == MAP_FAILED ? -1 : 0, ENODEV);
    CHECK(close(null) == 0);
    int null_read_only = open("/dev/null", O_RDONLY);
    FAILS(write(null_read_only, "x", 1), EBADF);
    CHECK(close(null_read_only) == 0);

    g_where = "/dev/full";
    int full = open("/dev/full", O_RDWR);
    CHECK(full >= 0);
    FAILS(write(full, "x", 1), ENOSPC);
    memset(buffer, 0xaa, 16);
    CHECK(read(full, buffer, 16) == 16 && buffer[0] == 0 && buffer[15] == 0);
    CHECK(close(full) == 0);

    g_where = "/dev/urandom";
    unsigned char a[64], b[64];
    int urandom = open("/dev/urandom", O_RDONLY);
    CHECK(urandom >= 0);
    CHECK(read(urandom, a, sizeof a) == sizeof a && read(urandom, b, sizeof b) == sizeof b);
    int same_byte = 1;
    for (size_t i = 1; i < sizeof a; ++i) same_byte &= a[i] == a[0];
    CHECK(!same_byte && memcmp(a, b, sizeof a) != 0);
    CHECK(close(urandom) == 0);
    int random_fd = open("/dev/random", O_RDWR | O_NONBLOCK);  // never blocks
    CHECK(random_fd >= 0 && read(random_fd, a, 16) == 16);
    CHECK(write(random_fd, "seed", 4) == 4);  // mixed in, as on Linux
    CHECK(close(random_fd) == 0);

    CHECK(access("/dev/null", R_OK | W_OK) == 0);  // shells ask before redirecting
    int redirect = open("/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);  // "> /dev/null"
    CHECK(redirect >= 0 && write(redirect, "x", 1) == 1 && close(redirect) == 0);

    expect_device("/dev/null", 1, 3);
    expect_device("/dev/zero", 1, 5);
    expect_device("/dev/full", 1, 7);
    expect_device("/dev/random", 1, 8);
    expect_device("/dev/urandom", 1, 9);
    expect_device("/dev/tty", 5, 0);
    expect_device("/dev/console", 5, 1);
}

static void terminal_and_links(void) {
    g_where = "/dev links";
    expect_link("/dev/stdin", "/proc/self/fd/0");
    expect_link("/dev/stdout", "/proc/self/fd/1");
    expect_link("/dev/stderr", "/proc/self/fd/2");
    expect_link("/dev/fd", "/proc/self/fd");
    expect_link("/proc/self/fd/1", "/dev/console");
    int out = open("/dev/stdout", O_WRONLY);  // through /proc/self/fd/1 to /dev/console
    CHECK(out >= 0 && isatty(out));
    CHECK(write(out, "", 0) == 0);
    CHECK(close(out) == 0);
    int tty = open("/dev/tty", O_RDWR);
    CHECK(tty >= 0 && isatty(tty));
    CHECK(close(tty) == 0);
    g_where = "ttyname";
    const char* name = ttyname(1);
    CHECK(name != NULL && strcmp(name, "/dev/console") == 0);

    g_where = "/dev/shm";
    struct stat st;
    CHECK(stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 01777);
    CHECK(stat("/dev/pts", &st) == 0 && S_ISDIR(st.st_mode));
    int shm = shm_open("/phoenix-test", O_RDWR | O_CREAT | O_EXCL, 0600);
    CHECK(shm >= 0);
    CHECK(write(shm, "shared", 6) == 6);
    CHECK(access("/dev/shm/phoenix-test", F_OK) == 0);
    char back[8] = {0};
    CHECK(pread(shm, back, 6, 0) == 6 && memcmp(back, "shared", 6) == 0);
    CHECK(close(shm) == 0 && shm_unlink("/phoenix-test") == 0);
    FAILS(access("/dev/shm/phoenix-test", F_OK), ENOENT);
}

// Whether a line of /proc/self/maps covers `address`; copies that line into `line`.
static int maps_line_for(const void* address, char* line, size_t size) {
    slurp("/proc/self/maps");
    for (char* at = g_text; *at;) {
        char* end = strchr(at, '\n');
        CHECK(end != NULL);
        unsigned long start, stop;
        CHECK(sscanf(at, "%lx-%lx", &start, &stop) == 2);
        if ((unsigned long)address >= start && (unsigned long)address < stop) {
            size_t n = (size_t)(end - at) < size - 1 ? (size_t)(end - at) : size - 1;
            memcpy(line, at, n);
            line[n] = 0;
            return 1;
        }
        at = end + 1;
    }
    return 0;
}

static void process_files(int argc, char** argv) {
    g_where = "/proc/self/exe";
    expect_link("/proc/self/exe", argv[0]);
    expect_link("/proc/self", "1");
    char cwd[4096];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    expect_link("/proc/self/cwd", cwd);

    g_where = "/proc/self/maps";
    char line[512];
    int local = 0;
    CHECK(maps_line_for(&local, line, sizeof line));
    CHECK(strstr(line, "rw-p") != NULL && strstr(line, "[stack]") != NULL);
    CHECK(maps_line_for((const void*)process_files, line, sizeof line));
    CHECK(strstr(line, "r-xp") != NULL && strstr(line, argv[0]) != NULL);
    void* heap = malloc(64);
    CHECK(maps_line_for(heap, line, sizeof line));
    free(heap);

    g_where = "/proc/self/status";
    slurp("/proc/self/status");
    CHECK(strstr(g_text, "\nPid:\t1\n") != NULL);
    CHECK(strstr(g_text, "\nPPid:\t0\n") != NULL && strstr(g_text, "\nThreads:\t1\n") != NULL);
    CHECK(strncmp(g_text, "Name:\tdev_proc\n", 15) == 0);
    CHECK(strstr(g_text, "\nVmSize:\t") != NULL && strstr(g_text, "\nSigBlk:\t") != NULL);
    FAILS(open("/proc/self/status", O_WRONLY), EACCES);
    // One snapshot per open: reading it again after a seek gives the same text.
    int status = open("/proc/self/status", O_RDONLY);
    char first[64], again[64];
    CHECK(status >= 0 && read(status, first, sizeof first) == sizeof first);
    CHECK(lseek(status, 0, SEEK_SET) == 0 && read(status, again, sizeof again) == sizeof again);
    CHECK(memcmp(first, again, sizeof first) == 0 && close(status) == 0);

    g_where = "/proc/self/stat";
    slurp("/proc/self/stat");
    CHECK(strncmp(g_text, "1 (dev_proc) R 0 ", 17) == 0);
    int fields = 2;  // pid and comm, then one field after each space
    for (const char* at = strchr(g_text, ')'); *at; ++at) fields += *at == ' ';
    CHECK(fields == 52);

    g_where = "/proc/self/cmdline";
    size_t length = slurp("/proc/self/cmdline");
    size_t expected = 0;
    for (int i = 0; i < argc; ++i) {
        CHECK(strcmp(g_text + expected, argv[i]) == 0);
        expected += strlen(argv[i]) + 1;
    }
    CHECK(length == expected);
    slurp("/proc/self/comm");
    CHECK(strcmp(g_text, "dev_proc\n") == 0);
    length = slurp("/proc/self/environ");
    expected = 0;
    for (char** env = environ; *env; ++env) {
        CHECK(strcmp(g_text + expected, *env) == 0);
        expected += strlen(*env) + 1;
    }
    CHECK(length == expected);

    g_where = "/proc/self/auxv";
    length = slurp("/proc/self/auxv");
    CHECK(length >= 32 && length % 16 == 0);
    unsigned long pagesz = 0;
    for (size_t at = 0; at + 16 <= length; at += 16) {
        unsigned long entry[2];
        memcpy(entry, g_text + at, 16);
        if (entry[0] == AT_PAGESZ) pagesz = entry[1];
    }
    CHECK(pagesz == 4096 && getauxval(AT_PAGESZ) == 4096);

    g_where = "/proc/self/mounts";
    slurp("/proc/self/mounts");
    CHECK(strstr(g_text, " / ") != NULL && strstr(g_text, " /proc proc ") != NULL);
    CHECK(strstr(g_text, " /dev devtmpfs ") != NULL && strstr(g_text, " /tmp tmpfs ") != NULL);
    slurp("/proc/mounts");
    CHECK(strstr(g_text, " /proc proc ") != NULL);
    slurp("/proc/self/mountinfo");
    CHECK(strstr(g_text, " / /proc ") != NULL && strstr(g_text, " - proc proc ") != NULL);
    slurp("/proc/self/limits");
    CHECK(strstr(g_text, "Max open files            1024") != NULL);
}

// Whether /proc/self/fd lists `fd`.
static int fd_listed(int fd) {
    DIR* dir = opendir("/proc/self/fd");
    CHECK(dir != NULL);
    char name[16];
    snprintf(name, sizeof name, "%d", fd);
    int found = 0;
    for (struct dirent* e; (e = readdir(dir));) found |= strcmp(e->d_name, name) == 0;
    CHECK(closedir(dir) == 0);
    return found;
}

static void fd_files(void) {
    g_where = "/proc/self/fd";
    CHECK(fd_listed(0) && fd_listed(1) && fd_listed(2));
    int fd = open("/tmp/dev-proc-file", O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0);
    CHECK(fd_listed(fd));
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    expect_link(link, "/tmp/dev-proc-file");
    CHECK(chdir("/etc") == 0);
    int relative = open("../tmp/./dev-proc-file", O_RDONLY);
    CHECK(relative >= 0);
    snprintf(link, sizeof link, "/proc/self/fd/%d", relative);
    expect_link(link, "/tmp/dev-proc-file");
    CHECK(close(relative) == 0 && chdir("/") == 0);
    CHECK(dup2(fd, 100) == 100 && fd_listed(100));  // high: opendir cannot take its number
    CHECK(close(100) == 0 && !fd_listed(100));
    CHECK(close(fd) == 0 && unlink("/tmp/dev-proc-file") == 0);
    struct stat st;
    CHECK(lstat("/proc/self/fd/0", &st) == 0 && S_ISLNK(st.st_mode));
    FAILS(lstat("/proc/self/fd/999", &st), ENOENT);
}

static void system_files(void) {
    g_where = "/proc/cpuinfo";
    slurp("/proc/cpuinfo");
    CHECK(strncmp(g_text, "processor\t: 0\n", 14) == 0);
    CHECK(strstr(g_text, "\nflags\t\t: fpu") != NULL && strstr(g_text, "\ncpu MHz\t\t: ") != NULL);

    g_where = "/proc/meminfo";
    slurp("/proc/meminfo");
    unsigned long total = 0, free_kb = 0;
    CHECK(sscanf(g_text, "MemTotal: %lu kB\nMemFree: %lu kB", &total, &free_kb) == 2);
    CHECK(total > 0 && free_kb > 0 && free_kb < total);

    g_where = "/proc/uptime";
    slurp("/proc/uptime");
    double up = -1, idle = -1;
    CHECK(sscanf(g_text, "%lf %lf", &up, &idle) == 2 && up >= 0);
    slurp("/proc/stat");
    CHECK(strncmp(g_text, "cpu  ", 5) == 0 && strstr(g_text, "\nbtime ") != NULL);
    slurp("/proc/loadavg");
    CHECK(strlen(g_text) > 10);

    g_where = "/proc/sys";
    struct utsname name;
    CHECK(uname(&name) == 0);
    slurp("/proc/sys/kernel/osrelease");
    CHECK(strncmp(g_text, name.release, strlen(name.release)) == 0);
    slurp("/proc/sys/kernel/hostname");
    CHECK(strncmp(g_text, name.nodename, strlen(name.nodename)) == 0);
    slurp("/proc/sys/kernel/ostype");
    CHECK(strcmp(g_text, "Linux\n") == 0);
    char uuid[64];
    slurp("/proc/sys/kernel/random/uuid");
    CHECK(strlen(g_text) == 37 && g_text[14] == '4');
    strcpy(uuid, g_text);
    slurp("/proc/sys/kernel/random/uuid");
    CHECK(strcmp(uuid, g_text) != 0);
    slurp("/proc/sys/kernel/random/boot_id");
    strcpy(uuid, g_text);
    slurp("/proc/sys/kernel/random/boot_id");
    CHECK(strlen(g_text) == 37 && strcmp(uuid, g_text) == 0);
    slurp("/proc/sys/vm/overcommit_memory");
    CHECK(strcmp(g_text, "0\n") == 0);
    slurp("/proc/sys/net/core/somaxconn");
    CHECK(atoi(g_text) > 0);
    slurp("/proc/sys/kernel/pid_max");
    CHECK(atoi(g_text) > 1);

    g_where = "sysconf";
    CHECK(sysconf(_SC_NPROCESSORS_ONLN) >= 1);
    CHECK(sysconf(_SC_NPROCESSORS_CONF) >= 1);
    slurp("/sys/devices/system/cpu/online");
    CHECK(strcmp(g_text, "0\n") == 0);
}

int main(int argc, char** argv) {
    memory_devices();
    terminal_and_links();
    process_files(argc, argv);
    fd_files();
    system_files();
    puts("dev proc ok");
    return 0;
}
