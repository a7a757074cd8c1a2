// Default File behaviour.
#include "kernel/fs/file.h"

namespace kernel::fs {

lib::Result<int64_t> File::ioctl(uint32_t, uint64_t) { return lib::Errno::NotTy; }

lib::Result<int64_t> File::seek(int64_t, int) { return lib::Errno::SPipe; }

lib::Result<size_t> File::pread(std::span<char>, uint64_t) { return lib::Errno::SPipe; }

lib::Result<size_t> File::pwrite(std::span<const char>, uint64_t) { return lib::Errno::SPipe; }

void File::release() {
    if (--m_references == 0) delete this;
}

}  // namespace kernel::fs
