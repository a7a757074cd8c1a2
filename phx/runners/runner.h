// What every runner (QEMU today, Phoenix's own VMM next) is given, and what it returns: the
// program's exit status, or a PhxError when the VM itself failed.
#pragma once

#include <cstdint>
#include <string>

namespace phx {

enum class Accel { Auto, Kvm, Tcg };

struct RunSpec {
    std::string kernel_path;
    std::string manifest_path;  // module 0 (docs/boot-protocol.md)
    std::string work_dir;       // private scratch directory for this run
    uint64_t memory_mib = 1024;
    Accel accel = Accel::Auto;
    bool verbose = false;
};

class Runner {
public:
    virtual ~Runner() = default;
    virtual int run(const RunSpec& spec) = 0;
};

// True when /dev/kvm can be opened read-write.
bool kvm_usable();

}  // namespace phx
