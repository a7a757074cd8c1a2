// File mappings end to end, on the tmpfs (/tmp), the root overlay (/data) and a file that
// comes from the image (/etc/hosts): MAP_SHARED written through in both directions, a shared
// mapping larger than its file that the file grows into, msync, the EACCES cases, 's' in
// /proc/self/maps; private mappings (pages faulted in late, zeros past EOF, writes that stay
// private); then preadv/pwritev(2); and last that pages a mapping still holds when
// its file is truncated or deleted go back to the allocator once the mapping goes (page
// reference counts: without them MemFree sinks by the 7.5 MiB the loop lends). Prints
// "mmap files ok" and exits 0, or the first failing check and exits 1.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
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

#define PAGE 4096

static char g_path[512];

static const char* at(const char* base, const char* name) {
    snprintf(g_path, sizeof g_path, "%s/%s", base, name);
    return g_path;
}

static long mem_free_kib(void) {
    FILE* f = fopen("/proc/meminfo", "r");
    CHECK(f != NULL);
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemFree: %ld kB", &kib) == 1) break;
    fclose(f);
    CHECK(kib > 0);
    return kib;
}

// The /proc/self/maps line of the area at `address` shows the flags `perms`.
static int maps_shows(void* address, const char* perms) {
    FILE* f = fopen("/proc/self/maps", "r");
    CHECK(f != NULL);
    char line[512];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long start, end;
        char p[8];
        if (sscanf(line, "%lx-%lx %7s", &start, &end, p) == 3 && start == (unsigned long)address)
            found = strcmp(p, perms) == 0;
    }
    fclose(f);
    return found;
}

static void shared_mappings(const char* base) {
    g_where = base;
    char buffer[PAGE];
    int fd = open(at(base, "shared"), O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    CHECK(ftruncate(fd, 2 * PAGE) == 0);
    char* map = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(map != MAP_FAILED);
    CHECK(maps_shows(map, "rw-s"));
    // Through the mapping into the file...
    memcpy(map + 10, "mapped", 6);
    memcpy(map + PAGE + 1, "second", 6);
    CHECK(pread(fd, buffer, 6, 10) == 6 && memcmp(buffer, "mapped", 6) == 0);
    CHECK(pread(fd, buffer, 6, PAGE + 1) == 6 && memcmp(buffer, "second", 6) == 0);
    // ...and from the file into the mapping.
    CHECK(pwrite(fd, "written", 7, 100) == 7);
    CHECK(memcmp(map + 100, "written", 7) == 0);
    CHECK(msync(map, 2 * PAGE, MS_SYNC) == 0);
    FAILS(msync(map + 1, PAGE, MS_SYNC), EINVAL);
    FAILS(msync(map, PAGE, MS_SYNC | MS_ASYNC), EINVAL);
    // Two mappings of one file see each other.
    char* other = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, PAGE);
    CHECK(other != MAP_FAILED && memcmp(other + 1, "second", 6) == 0);
    map[PAGE + 1] = 'S';
    CHECK(other[1] == 'S');
    CHECK(munmap(other, PAGE) == 0);
    // Read-only first, writable later: still the file's page.
    CHECK(mprotect(map, PAGE, PROT_READ) == 0 && mprotect(map, PAGE, PROT_READ | PROT_WRITE) == 0);
    map[0] = 'A';
    CHECK(pread(fd, buffer, 1, 0) == 1 && buffer[0] == 'A');
    CHECK(munmap(map, 2 * PAGE) == 0);
    // The data outlives the mapping.
    CHECK(pread(fd, buffer, 6, 10) == 6 && memcmp(buffer, "mapped", 6) == 0);

    // A mapping larger than the file: the file grows into it.
    CHECK(ftruncate(fd, PAGE) == 0);
    map = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(map != MAP_FAILED);
    CHECK(ftruncate(fd, 3 * PAGE) == 0);
    memcpy(map + 2 * PAGE, "grown", 5);
    CHECK(pread(fd, buffer, 5, 2 * PAGE) == 5 && memcmp(buffer, "grown", 5) == 0);
    CHECK(pwrite(fd, "late", 4, PAGE + 8) == 4);
    CHECK(memcmp(map + PAGE + 8, "late", 4) == 0);
    CHECK(munmap(map, 4 * PAGE) == 0);

    // Private mappings of the same file stay private.
    char* mine = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(mine != MAP_FAILED && maps_shows(mine, "rw-p"));
    mine[0] = 'P';
    CHECK(pread(fd, buffer, 1, 0) == 1 && buffer[0] == 'A');
    CHECK(munmap(mine, PAGE) == 0);
    CHECK(close(fd) == 0);

    // A descriptor opened read-only can share, but never write.
    fd = open(at(base, "shared"), O_RDONLY);
    CHECK(fd >= 0);
    FAILS(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0,
          EACCES);
    map = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(map != MAP_FAILED && map[0] == 'A' && maps_shows(map, "r--s"));
    FAILS(mprotect(map, PAGE, PROT_READ | PROT_WRITE), EACCES);
    CHECK(munmap(map, PAGE) == 0);
    CHECK(close(fd) == 0);
    fd = open(at(base, "shared"), O_WRONLY);
    FAILS(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0, EACCES);
    CHECK(close(fd) == 0);
    CHECK(unlink(at(base, "shared")) == 0);
}

// /etc/hosts comes from the image: opened for writing it is copied up, and the shared
// mapping writes the copy.
static void image_file(void) {
    g_where = "/etc/hosts";
    char buffer[64];
    int fd = open("/etc/hosts", O_RDONLY);
    CHECK(fd >= 0);
    char first[16];
    CHECK(pread(fd, first, sizeof first, 0) == (ssize_t)sizeof first);
    char* map = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(map != MAP_FAILED && memcmp(map, first, sizeof first) == 0);
    FAILS(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0,
          EACCES);
    CHECK(munmap(map, PAGE) == 0);
    CHECK(close(fd) == 0);
    fd = open("/etc/hosts", O_RDWR);
    CHECK(fd >= 0);
    map = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(map != MAP_FAILED && memcmp(map, first, sizeof first) == 0);
    map[0] = '#';
    map[1] = '!';
    CHECK(munmap(map, PAGE) == 0);
    CHECK(close(fd) == 0);
    fd = open("/etc/hosts", O_RDONLY);
    CHECK(pread(fd, buffer, 2, 0) == 2 && memcmp(buffer, "#!", 2) == 0);
    CHECK(pread(fd, buffer, sizeof first - 2, 2) == (ssize_t)sizeof first - 2 &&
          memcmp(buffer, first + 2, sizeof first - 2) == 0);
    CHECK(close(fd) == 0);
}

static void vectored_positions(const char* base) {
    g_where = base;
    int fd = open(at(base, "vectored"), O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    struct iovec out[3] = {{"abc", 3}, {"", 0}, {"defgh", 5}};
    CHECK(pwritev(fd, out, 3, 10) == 8);
    CHECK(lseek(fd, 0, SEEK_CUR) == 0);  // positioned: the offset stays
    char a[4] = {0}, b[8] = {0};
    struct iovec in[2] = {{a, 2}, {b, 8}};
    CHECK(preadv(fd, in, 2, 11) == 7);
    CHECK(memcmp(a, "bc", 2) == 0 && memcmp(b, "defgh", 5) == 0);
    // preadv2/pwritev2 with offset -1 use and move the file position, as readv/writev.
    CHECK(lseek(fd, 12, SEEK_SET) == 12);
    struct iovec one = {a, 3};
    CHECK(preadv2(fd, &one, 1, -1, 0) == 3 && memcmp(a, "cde", 3) == 0);
    CHECK(lseek(fd, 0, SEEK_CUR) == 15);
    struct iovec tail = {"XY", 2};
    CHECK(pwritev2(fd, &tail, 1, 0, RWF_APPEND) == 2);  // appends whatever the offset says
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == 20);
    CHECK(pread(fd, b, 2, 18) == 2 && memcmp(b, "XY", 2) == 0);
    CHECK(pwritev2(fd, &tail, 1, 0, RWF_DSYNC) == 2 && pread(fd, b, 2, 0) == 2 &&
          memcmp(b, "XY", 2) == 0);
    FAILS(pwritev2(fd, &tail, 1, 0, 0x4000), EOPNOTSUPP);
    FAILS(preadv(fd, in, 2, -5), EINVAL);
    int console = open("/dev/console", O_RDWR);
    CHECK(console >= 0);
    FAILS(preadv(console, in, 2, 0), ESPIPE);  // a stream has no positions
    close(console);
    CHECK(close(fd) == 0);
    CHECK(unlink(at(base, "vectored")) == 0);

    // A big read of a file is never short (Linux reads a file to the count or EOF).
    fd = open(at(base, "big"), O_RDWR | O_CREAT | O_TRUNC, 0600);
    static char big[256 * 1024], back[256 * 1024];
    for (size_t i = 0; i < sizeof big; ++i) big[i] = (char)(i * 13 + 1);
    CHECK(write(fd, big, sizeof big) == (ssize_t)sizeof big);
    CHECK(pread(fd, back, sizeof back, 0) == (ssize_t)sizeof back);
    CHECK(memcmp(big, back, sizeof big) == 0);
    CHECK(lseek(fd, 0, SEEK_SET) == 0 && read(fd, back, sizeof back) == (ssize_t)sizeof back);
    CHECK(close(fd) == 0);
    CHECK(unlink(at(base, "big")) == 0);
}

// Private mappings fault their pages in: each page read late (in no particular order) holds
// the file's bytes there, the rest of the last page past EOF reads as zeros, writes
// stay in the mapping (the file and a second mapping never see them, nor does a page made
// writable by mprotect after it was read), and MADV_DONTNEED gives back the file's bytes, as
// on Linux. On a file of `base` and on the program's own file from the image.
static void check_page(const char* map, const char* expect_from, int fd, long page) {
    static char want[PAGE];
    if (expect_from)
        memcpy(want, expect_from + page * PAGE, PAGE);
    else
        CHECK(pread(fd, want, PAGE, page * PAGE) == PAGE);
    CHECK(memcmp(map + page * PAGE, want, PAGE) == 0);
}

static void private_mappings(const char* base) {
    g_where = base;
    enum { kPages = 40, kTail = 100 };
    static char data[kPages * PAGE + kTail];
    for (size_t i = 0; i < sizeof data; ++i) data[i] = (char)(i / PAGE * 7 + i % 251 + 1);
    int fd = open(at(base, "private"), O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    CHECK(write(fd, data, sizeof data) == (ssize_t)sizeof data);
    size_t length = (kPages + 1) * PAGE;  // the last page partial (Linux: SIGBUS past it)
    char* ro = mmap(NULL, length, PROT_READ, MAP_PRIVATE, fd, 0);
    char* rw = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(ro != MAP_FAILED && rw != MAP_FAILED);
    CHECK(maps_shows(ro, "r--p") && maps_shows(rw, "rw-p"));
    static const long order[] = {37, 2, 21, 39, 0, 17, 30};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; ++i) {
        check_page(ro, data, fd, order[i]);
        check_page(rw, data, fd, order[i]);
    }
    for (long i = 0; i < kTail; ++i) CHECK(ro[kPages * PAGE + i] == data[kPages * PAGE + i]);
    for (size_t i = kPages * PAGE + kTail; i < length; ++i) CHECK(ro[i] == 0 && rw[i] == 0);
    // Writes stay private...
    memcpy(rw + 25 * PAGE + 5, "private", 7);
    rw[kPages * PAGE + kTail] = 'T';  // past EOF too
    CHECK(ro[kPages * PAGE + kTail] == 0);
    char buffer[8];
    CHECK(pread(fd, buffer, 7, 25 * PAGE + 5) == 7 && memcmp(buffer, data + 25 * PAGE + 5, 7) == 0);
    CHECK(memcmp(ro + 25 * PAGE + 5, data + 25 * PAGE + 5, 7) == 0);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == (off_t)sizeof data);
    // ...also where a page read first is made writable.
    CHECK(ro[33 * PAGE] == data[33 * PAGE]);
    CHECK(mprotect(ro + 33 * PAGE, PAGE, PROT_READ | PROT_WRITE) == 0);
    ro[33 * PAGE] = 'W';
    CHECK(pread(fd, buffer, 1, 33 * PAGE) == 1 && buffer[0] == data[33 * PAGE]);
    CHECK(mprotect(ro + 33 * PAGE, PAGE, PROT_READ) == 0 && ro[33 * PAGE] == 'W');
    // Dropped pages are the file's again.
    CHECK(madvise(rw + 25 * PAGE, PAGE, MADV_DONTNEED) == 0);
    check_page(rw, data, fd, 25);
    CHECK(munmap(ro, length) == 0 && munmap(rw, length) == 0);
    CHECK(close(fd) == 0);
    CHECK(unlink(at(base, "private")) == 0);
}

static void private_image_file(const char* program) {
    g_where = program;
    int fd = open(program, O_RDONLY);
    CHECK(fd >= 0);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size > 4 * PAGE);
    long pages = (long)(st.st_size / PAGE);
    char* map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    char* rw = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(map != MAP_FAILED && rw != MAP_FAILED);
    for (long page = pages - 1; page >= 0; page -= 3) {
        check_page(map, NULL, fd, page);
        check_page(rw, NULL, fd, page);
    }
    rw[PAGE] ^= 0x55;
    char byte;
    CHECK(pread(fd, &byte, 1, PAGE) == 1 && byte == map[PAGE] && (char)(byte ^ 0x55) == rw[PAGE]);
    CHECK(munmap(map, (size_t)st.st_size) == 0 && munmap(rw, (size_t)st.st_size) == 0);
    CHECK(close(fd) == 0);
}

// Lent pages come back: 60 files of 128 KiB, each mapped (private and shared) while it is
// truncated and deleted. The mappings keep what they hold until munmap; then it is freed.
// (Small: where ring 0 is emulated every page costs about a millisecond.)
static void lent_pages_come_back(const char* base) {
    g_where = base;
    static char data[128 * 1024];
    memset(data, 'd', sizeof data);
    long before = mem_free_kib();
    for (int i = 0; i < 60; ++i) {
        int fd = open(at(base, "lent"), O_RDWR | O_CREAT | O_TRUNC, 0600);
        CHECK(fd >= 0);
        CHECK(write(fd, data, sizeof data) == (ssize_t)sizeof data);
        char* ro = mmap(NULL, sizeof data, PROT_READ, MAP_PRIVATE, fd, 0);
        char* rw = mmap(NULL, sizeof data, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        CHECK(ro != MAP_FAILED && rw != MAP_FAILED);
        CHECK(ro[i * 1000] == 'd' && rw[sizeof data - 1] == 'd');
        CHECK(ftruncate(fd, PAGE) == 0);  // the file lets go of most pages...
        CHECK(unlink(at(base, "lent")) == 0);  // ...and then of the rest
        CHECK(close(fd) == 0);
        CHECK(ro[0] == 'd' && rw[0] == 'd');  // the first page is still the file's
        CHECK(munmap(ro, sizeof data) == 0 && munmap(rw, sizeof data) == 0);
    }
    long after = mem_free_kib();
    printf("%s: MemFree %ld kB before, %ld kB after 60 lent files\n", base, before, after);
    CHECK(after > before - 1024);  // 7.5 MiB lower if they leaked
}

int main(int argc, char** argv) {
    (void)argc;
    shared_mappings("/tmp");
    CHECK(mkdir("/data", 0755) == 0 || errno == EEXIST);
    shared_mappings("/data");
    image_file();
    private_mappings("/tmp");
    private_mappings("/data");
    private_image_file(argv[0]);
    vectored_positions("/tmp");
    vectored_positions("/data");
    lent_pages_come_back("/tmp");
    lent_pages_come_back("/data");
    printf("mmap files ok\n");
    return 0;
}
