// Writable files end to end: the same file and directory operations in /tmp (a tmpfs) and on
// the root overlay (a new /data directory and /etc, which comes from the image), with the
// errno of every failure case checked; then an image file overwritten (/etc/hosts) and one
// deleted (/etc/passwd). It first checks that the image is pristine, so booting the same
// image twice proves that writes vanish at reboot. Prints "file ops ok" and exits 0, or prints
// the first failing check and exits 1.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
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

// The call fails with exactly `err`.
#define FAILS(call, err)       \
    do {                       \
        errno = 0;             \
        CHECK((call) == -1);   \
        CHECK(errno == (err)); \
    } while (0)

static char g_path[512], g_path2[512];

static const char* at(const char* base, const char* name) {
    snprintf(g_path, sizeof g_path, "%s/%s", base, name);
    return g_path;
}

static const char* at2(const char* base, const char* name) {
    snprintf(g_path2, sizeof g_path2, "%s/%s", base, name);
    return g_path2;
}

static void write_file(const char* path, const char* text, int flags) {
    int fd = open(path, O_WRONLY | O_CREAT | flags, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    CHECK(close(fd) == 0);
}

// The whole file (up to 4 KiB) as a string.
static const char* read_file(const char* path) {
    static char buffer[4096];
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    ssize_t n = read(fd, buffer, sizeof buffer - 1);
    CHECK(n >= 0);
    buffer[n] = 0;
    CHECK(close(fd) == 0);
    return buffer;
}

// Whether directory `dir` lists `name`; counts the entries other than "." and "..".
static int lists(const char* dir, const char* name, int* count) {
    DIR* d = opendir(dir);
    CHECK(d != NULL);
    int found = 0, dots = 0, n = 0;
    for (struct dirent* e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
            ++dots;
            continue;
        }
        ++n;
        if (!strcmp(e->d_name, name)) found = 1;
    }
    CHECK(closedir(d) == 0);
    CHECK(dots == 2);
    if (count) *count = n;
    return found;
}

static void check_pristine(void) {
    g_where = "pristine";
    CHECK(strncmp(read_file("/etc/hosts"), "127.0.0.1", 9) == 0);
    struct stat st;
    CHECK(stat("/etc/passwd", &st) == 0);
    FAILS(stat("/data", &st), ENOENT);
    CHECK(lists("/etc", "passwd", NULL));
    printf("pristine: /etc/hosts from the image, no /data\n");
}

static void check_mounts(void) {
    g_where = "mounts";
    struct statfs fs;
    CHECK(statfs("/", &fs) == 0);
    CHECK(fs.f_type == 0xef53);
    CHECK(fs.f_bsize == 4096 && fs.f_blocks > 0 && fs.f_bavail > 0);
    CHECK(statfs("/tmp", &fs) == 0);
    CHECK(fs.f_type == 0x01021994);
    CHECK(fs.f_blocks > 0 && fs.f_bfree > 0);
    struct stat root, tmp, tmp_parent;
    CHECK(stat("/", &root) == 0);
    CHECK(stat("/tmp", &tmp) == 0);
    CHECK(S_ISDIR(tmp.st_mode) && (tmp.st_mode & 07777) == 01777);
    CHECK(tmp.st_dev != root.st_dev);
    CHECK(stat("/tmp/..", &tmp_parent) == 0);  // ".." leaves the mount
    CHECK(tmp_parent.st_ino == root.st_ino && tmp_parent.st_dev == root.st_dev);
    CHECK(lists("/", "tmp", NULL));
    CHECK(access("/tmp", W_OK) == 0);
    CHECK(access("/etc/hosts", W_OK) == 0);
    FAILS(rmdir("/tmp"), EBUSY);
    FAILS(rename("/tmp", "/tmp2"), EBUSY);

    // Relative paths from a cwd inside the mount, and ".." out of it.
    char cwd[64];
    CHECK(chdir("/tmp") == 0);
    CHECK(mkdir("rel", 0755) == 0);
    write_file("rel/../rel/x", "r", O_EXCL);
    struct stat x, here;
    CHECK(stat("../tmp/rel/x", &x) == 0 && x.st_size == 1 && x.st_dev == tmp.st_dev);
    CHECK(unlink("rel/x") == 0 && rmdir("rel") == 0);
    CHECK(chdir("..") == 0);
    CHECK(getcwd(cwd, sizeof cwd) && strcmp(cwd, "/") == 0);
    CHECK(stat(".", &here) == 0 && here.st_ino == root.st_ino && here.st_dev == root.st_dev);
}

static void check_files(const char* base) {
    struct stat st, st2;
    char buffer[64];
    // Create, O_EXCL, append, pread.
    write_file(at(base, "f1"), "hello", O_EXCL);
    FAILS(open(at(base, "f1"), O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST);
    write_file(at(base, "f1"), " world", O_APPEND);
    CHECK(strcmp(read_file(at(base, "f1")), "hello world") == 0);
    int fd = open(at(base, "f1"), O_RDWR);
    CHECK(fd >= 0);
    CHECK(pread(fd, buffer, 5, 6) == 5 && memcmp(buffer, "world", 5) == 0);
    CHECK(pwrite(fd, "W", 1, 6) == 1);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 11 && S_ISREG(st.st_mode));
    CHECK((st.st_mode & 0777) == (0644 & ~022));
    CHECK(close(fd) == 0);
    CHECK(strcmp(read_file(at(base, "f1")), "hello World") == 0);
    int in = open(at(base, "f1"), O_RDONLY),
        out = open(at2(base, "sent"), O_WRONLY | O_CREAT, 0644);
    off_t position = 6;
    CHECK(in >= 0 && out >= 0 && sendfile(out, in, &position, 100) == 5 && position == 11);
    CHECK(sendfile(out, in, NULL, 5) == 5 && lseek(in, 0, SEEK_CUR) == 5);
    CHECK(close(in) == 0 && close(out) == 0);
    CHECK(strcmp(read_file(at(base, "sent")), "Worldhello") == 0);
    CHECK(unlink(at(base, "sent")) == 0);
    CHECK(stat(at(base, "f1"), &st) == 0 && stat(at(base, "f1"), &st2) == 0);
    CHECK(st.st_ino == st2.st_ino && st.st_dev == st2.st_dev);
    CHECK(access(at(base, "f1"), W_OK) == 0);
    FAILS(open(at(base, "missing"), O_RDONLY), ENOENT);
    FAILS(write(open(at(base, "f1"), O_RDONLY), "x", 1), EBADF);

    // Rename keeps the inode; the old name is gone.
    CHECK(rename(at(base, "f1"), at2(base, "f2")) == 0);
    FAILS(stat(at(base, "f1"), &st2), ENOENT);
    CHECK(stat(at(base, "f2"), &st2) == 0 && st2.st_ino == st.st_ino);
    CHECK(strcmp(read_file(at(base, "f2")), "hello World") == 0);
    FAILS(rename(at(base, "f1"), at2(base, "f3")), ENOENT);

    // Truncate down and up, sparse writes, holes read as zeros.
    CHECK(truncate(at(base, "f2"), 5) == 0);
    CHECK(strcmp(read_file(at(base, "f2")), "hello") == 0);
    fd = open(at(base, "f2"), O_RDWR);
    CHECK(fd >= 0);
    CHECK(ftruncate(fd, 8192) == 0);
    CHECK(pread(fd, buffer, 16, 4) == 16 && buffer[0] == 'o' && buffer[1] == 0 && buffer[15] == 0);
    CHECK(pwrite(fd, "far", 3, 1 << 20) == 3);
    CHECK(fstat(fd, &st) == 0 && st.st_size == (1 << 20) + 3);
    CHECK(pread(fd, buffer, 8, 300000) == 8 && memcmp(buffer, "\0\0\0\0\0\0\0\0", 8) == 0);
    CHECK(pread(fd, buffer, 8, 1 << 20) == 3 && memcmp(buffer, "far", 3) == 0);
    CHECK(lseek(fd, 0, SEEK_END) == (1 << 20) + 3);
    CHECK(ftruncate(fd, 3) == 0);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 3);
    CHECK(ftruncate(fd, 10) == 0 && pread(fd, buffer, 10, 0) == 10 &&
          memcmp(buffer, "hel\0\0\0\0\0\0\0", 10) == 0);
    CHECK(fallocate(fd, 0, 0, 20000) == 0 && fstat(fd, &st) == 0 && st.st_size == 20000);
    CHECK(fsync(fd) == 0 && fdatasync(fd) == 0);
    CHECK(close(fd) == 0);
    FAILS(ftruncate(open(at(base, "f2"), O_RDONLY), 0), EINVAL);

    // A page-sized pattern through mmap: the mapping sees what was written.
    fd = open(at(base, "mapped"), O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    static char page[8192];
    for (int i = 0; i < (int)sizeof page; ++i) page[i] = (char)(i * 7);
    CHECK(write(fd, page, sizeof page) == (ssize_t)sizeof page);
    char* map = mmap(NULL, sizeof page, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(map != MAP_FAILED);
    CHECK(memcmp(map, page, sizeof page) == 0);
    char* copy = mmap(NULL, sizeof page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(copy != MAP_FAILED && memcmp(copy, page, sizeof page) == 0);
    copy[0] = 'Z';  // private: the file keeps its byte
    CHECK(pread(fd, buffer, 1, 0) == 1 && buffer[0] == page[0]);
    CHECK(munmap(map, sizeof page) == 0 && munmap(copy, sizeof page) == 0);
    CHECK(close(fd) == 0);
    CHECK(unlink(at(base, "mapped")) == 0);

    // Directories and their errors.
    CHECK(mkdir(at(base, "d"), 0755) == 0);
    FAILS(mkdir(at(base, "d"), 0755), EEXIST);
    FAILS(mkdir(at(base, "f2"), 0755), EEXIST);
    FAILS(mkdir(at(base, "nodir/d"), 0755), ENOENT);
    write_file(at(base, "d/x"), "x", 0);
    FAILS(rmdir(at(base, "d")), ENOTEMPTY);
    FAILS(unlink(at(base, "d")), EISDIR);
    FAILS(rmdir(at(base, "f2")), ENOTDIR);
    FAILS(open(at(base, "f2/x"), O_RDONLY), ENOTDIR);
    FAILS(open(at(base, "f2/x"), O_WRONLY | O_CREAT, 0644), ENOTDIR);
    FAILS(open(at(base, "d"), O_WRONLY), EISDIR);
    FAILS(rename(at(base, "d"), at2(base, "f2")), ENOTDIR);
    FAILS(rename(at(base, "f2"), at2(base, "d")), EISDIR);
    CHECK(mkdir(at(base, "e"), 0700) == 0);
    FAILS(rename(at(base, "e"), at2(base, "d")), ENOTEMPTY);
    FAILS(rename(at(base, "d"), at2(base, "d/sub")), EINVAL);
    CHECK(rename(at(base, "d"), at2(base, "e")) == 0);  // replaces the empty directory
    CHECK(strcmp(read_file(at(base, "e/x")), "x") == 0);
    FAILS(stat(at(base, "d"), &st), ENOENT);
    CHECK(unlink(at(base, "e/x")) == 0);
    FAILS(unlink(at(base, "e/x")), ENOENT);
    CHECK(rmdir(at(base, "e")) == 0);
    FAILS(rmdir(at(base, "e")), ENOENT);
    FAILS(stat(at(base, "e"), &st), ENOENT);

    // Listings.
    int count = 0;
    CHECK(lists(base, "f2", &count));
    CHECK(!lists(base, "f1", NULL));
    CHECK(!lists(base, "e", NULL));

    // Symbolic and hard links.
    CHECK(symlink("f2", at(base, "link")) == 0);
    FAILS(symlink("f2", at(base, "link")), EEXIST);
    CHECK(readlink(at(base, "link"), buffer, sizeof buffer) == 2 && memcmp(buffer, "f2", 2) == 0);
    CHECK(lstat(at(base, "link"), &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(stat(at(base, "link"), &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 20000);
    CHECK(read_file(at(base, "link"))[0] == 'h');
    CHECK(link(at(base, "f2"), at2(base, "hard")) == 0);
    CHECK(stat(at(base, "f2"), &st) == 0 && stat(at(base, "hard"), &st2) == 0);
    CHECK(st.st_ino == st2.st_ino && st.st_nlink == 2);
    CHECK(unlink(at(base, "hard")) == 0 && unlink(at(base, "link")) == 0);
    CHECK(stat(at(base, "f2"), &st) == 0 && st.st_nlink == 1);

    // Rename over an existing file; RENAME_NOREPLACE refuses.
    write_file(at(base, "g"), "replacement", 0);
    CHECK(syscall(SYS_renameat2, AT_FDCWD, at(base, "g"), AT_FDCWD, at2(base, "f2"),
                  1 /* NOREPLACE */) == -1 &&
          errno == EEXIST);
    CHECK(rename(at(base, "g"), at2(base, "f2")) == 0);
    CHECK(strcmp(read_file(at(base, "f2")), "replacement") == 0);
    FAILS(stat(at(base, "g"), &st), ENOENT);

    // Attributes.
    CHECK(chmod(at(base, "f2"), 0600) == 0);
    CHECK(stat(at(base, "f2"), &st) == 0 && (st.st_mode & 07777) == 0600);
    struct timespec times[2] = {{1000000000, 5}, {1234567890, 0}};
    CHECK(utimensat(AT_FDCWD, at(base, "f2"), times, 0) == 0);
    CHECK(stat(at(base, "f2"), &st) == 0 && st.st_mtime == 1234567890 && st.st_atime == 1000000000);
    CHECK(chown(at(base, "f2"), 1000, 1000) == 0);
    CHECK(stat(at(base, "f2"), &st) == 0 && st.st_uid == 1000 && st.st_gid == 1000);

    // Many entries, removed while they are being listed (rm -rf's way).
    CHECK(mkdir(at(base, "many"), 0755) == 0);
    for (int i = 0; i < 60; ++i) {
        char name[32];
        snprintf(name, sizeof name, "many/file%d", i);
        write_file(at(base, name), "m", 0);
    }
    CHECK(lists(at(base, "many"), "file59", &count) && count == 60);
    DIR* d = opendir(at(base, "many"));
    CHECK(d != NULL);
    int removed = 0;
    for (struct dirent* e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        CHECK(unlinkat(dirfd(d), e->d_name, 0) == 0);
        ++removed;
    }
    closedir(d);
    CHECK(removed == 60);
    CHECK(rmdir(at(base, "many")) == 0);

    CHECK(unlink(at(base, "f2")) == 0);
    CHECK(!lists(base, "f2", NULL));
}

static void check_image_files(void) {
    g_where = "image";
    struct stat before, after;
    CHECK(stat("/etc/hosts", &before) == 0);
    write_file("/etc/hosts", "10.0.0.1 phoenix\n", O_TRUNC);
    CHECK(strcmp(read_file("/etc/hosts"), "10.0.0.1 phoenix\n") == 0);
    CHECK(stat("/etc/hosts", &after) == 0);
    CHECK(after.st_ino == before.st_ino && after.st_size == 17);
    CHECK(lists("/etc", "hosts", NULL));

    CHECK(unlink("/etc/passwd") == 0);
    FAILS(stat("/etc/passwd", &after), ENOENT);
    FAILS(unlink("/etc/passwd"), ENOENT);
    CHECK(!lists("/etc", "passwd", NULL));
    CHECK(lists("/etc", "group", NULL));
    // A new file over the whiteout, then gone again.
    write_file("/etc/passwd", "new\n", O_EXCL);
    CHECK(strcmp(read_file("/etc/passwd"), "new\n") == 0);
    CHECK(lists("/etc", "passwd", NULL));
    CHECK(unlink("/etc/passwd") == 0);
    CHECK(!lists("/etc", "passwd", NULL));

    // Directories of the image: not empty, renames of them are EXDEV (overlayfs without
    // redirect_dir), and a deleted one comes back opaque.
    FAILS(rmdir("/etc"), ENOTEMPTY);
    FAILS(rename("/etc", "/etc2"), EXDEV);
    FAILS(rename("/tmp/nothing", "/data/nothing"), EXDEV);  // Linux checks the mounts first
    write_file("/tmp/cross", "c", 0);
    FAILS(rename("/tmp/cross", "/etc/cross"), EXDEV);
    CHECK(unlink("/tmp/cross") == 0);
    CHECK(mkdir("/etc/phoenix2", 0755) == 0 && rmdir("/etc/phoenix2") == 0);
    CHECK(unlink("/etc/phoenix/manifest") == 0);
    CHECK(rmdir("/etc/phoenix") == 0);
    FAILS(stat("/etc/phoenix", &after), ENOENT);
    CHECK(mkdir("/etc/phoenix", 0700) == 0);
    int count = -1;
    CHECK(!lists("/etc/phoenix", "manifest", &count) && count == 0);
    FAILS(stat("/etc/phoenix/manifest", &after), ENOENT);

    // A file from the image renamed: its data moves, the old name is gone.
    CHECK(rename("/etc/group", "/data/group") == 0);
    FAILS(stat("/etc/group", &after), ENOENT);
    CHECK(strstr(read_file("/data/group"), "root") != NULL);
    CHECK(!lists("/etc", "group", NULL));
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    check_pristine();
    check_mounts();
    g_where = "/tmp";
    check_files("/tmp");
    g_where = "/data";
    CHECK(mkdir("/data", 0755) == 0);
    check_files("/data");
    g_where = "/etc";
    check_files("/etc");
    check_image_files();
    printf("file ops ok\n");
    return 0;
}
