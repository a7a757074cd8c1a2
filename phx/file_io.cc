// POSIX implementation of phx's file helpers (EINTR-safe loops, O_CLOEXEC everywhere).
#include "phx/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

namespace phx {

namespace {

[[noreturn]] void fail(int error, const std::string& path) {
    throw std::system_error(error, std::generic_category(), path);
}

// Closes on scope exit so that every error path releases the descriptor.
class Fd {
public:
    explicit Fd(int fd) : m_fd(fd) {}
    ~Fd() {
        if (m_fd >= 0) close(m_fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return m_fd; }
    int release() { return std::exchange(m_fd, -1); }

private:
    int m_fd;
};

}  // namespace

std::vector<std::byte> read_file(const std::string& path) {
    Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) fail(errno, path);
    struct stat info;
    if (fstat(fd.get(), &info) != 0) fail(errno, path);
    if (S_ISDIR(info.st_mode)) fail(EISDIR, path);
    if (!S_ISREG(info.st_mode)) fail(EINVAL, path);
    std::vector<std::byte> bytes(size_t(info.st_size));
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = read(fd.get(), bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail(errno, path);
        if (n == 0) break;  // the file shrank while we read it
        done += size_t(n);
    }
    bytes.resize(done);
    return bytes;
}

void write_file(const std::string& path, std::span<const std::byte> bytes) {
    Fd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (fd.get() < 0) fail(errno, path);
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = write(fd.get(), bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail(errno, path);
        done += size_t(n);
    }
    if (close(fd.release()) != 0) fail(errno, path);
}

}  // namespace phx
