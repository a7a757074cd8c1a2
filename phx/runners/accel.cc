// Accelerator choice by trying /dev/kvm the way QEMU will use it (read-write).
#include "phx/runners/accel.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "phx/error.h"
#include "phx/log.h"

namespace phx {

namespace {

// 0 when /dev/kvm opens read-write, else the errno of the failed open.
int try_open_kvm() {
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) return errno;
    close(fd);
    return 0;
}

}  // namespace

Accel parse_accel(const std::string& name) {
    if (name == "kvm") return Accel::Kvm;
    if (name == "tcg") return Accel::Tcg;
    return Accel::Auto;
}

const char* accel_name(Accel accel) {
    switch (accel) {
        case Accel::Auto:
            return "auto";
        case Accel::Kvm:
            return "kvm";
        case Accel::Tcg:
            return "tcg";
    }
    return "auto";
}

Accel resolve_accel(Accel requested) {
    if (requested == Accel::Tcg) {
        log_verbose("accelerator: tcg (--accel tcg)");
        return Accel::Tcg;
    }
    int error = try_open_kvm();
    if (requested == Accel::Kvm && error != 0)
        throw PhxError(
            kExitVmFailed,
            std::string("--accel kvm: cannot open /dev/kvm read-write: ") + std::strerror(error));
    if (error != 0) {
        log_verbose(std::string("accelerator: tcg (cannot open /dev/kvm: ") + std::strerror(error) +
                    ")");
        return Accel::Tcg;
    }
    log_verbose("accelerator: kvm (/dev/kvm opened read-write)");
    return Accel::Kvm;
}

}  // namespace phx
