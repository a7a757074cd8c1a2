// Default File behaviour.
#include "kernel/fs/file.h"

#include "kernel/mm/heap.h"

namespace kernel::fs {

lib::Result<int64_t> File::ioctl(uint32_t, uint64_t) { return lib::Errno::NotTy; }

lib::Result<int64_t> File::seek(int64_t, int) { return lib::Errno::SPipe; }

lib::Result<size_t> File::pread(std::span<char>, uint64_t) { return lib::Errno::SPipe; }

lib::Result<size_t> File::pwrite(std::span<const char>, uint64_t) { return lib::Errno::SPipe; }

void File::release() {
    if (--m_references == 0) delete this;
}

OpenPath::~OpenPath() { mm::kfree(m_text); }

lib::ErrorOr OpenPath::set(std::string_view path) {
    auto* text = static_cast<char*>(mm::kmalloc(path.size() + 1));
    if (!text) return lib::Errno::NoMem;
    __builtin_memcpy(text, path.data(), path.size());
    text[path.size()] = '\0';
    mm::kfree(m_text);
    m_text = text;
    m_length = path.size();
    return {};
}

}  // namespace kernel::fs
