// Default File behaviour.
#include "kernel/fs/file.h"

#include "kernel/mm/heap.h"
#include "kernel/sched/wait.h"

namespace kernel::fs {

File::~File() {
    while (ReadinessWatch* watch = m_watches) {
        remove_watch(*watch);
        watch->file_closed();
    }
}

lib::Result<int64_t> File::ioctl(uint32_t, uint64_t) { return lib::Errno::NotTy; }

lib::Result<size_t> File::read_user(uint64_t, size_t) { return lib::Errno::Inval; }

lib::Result<size_t> File::write_user(uint64_t, size_t) { return lib::Errno::Inval; }

void File::add_watch(ReadinessWatch& watch) {
    watch.m_file = this;
    watch.m_prev = nullptr;
    watch.m_next = m_watches;
    if (m_watches) m_watches->m_prev = &watch;
    m_watches = &watch;
}

void File::remove_watch(ReadinessWatch& watch) {
    if (watch.m_file != this) return;
    if (watch.m_prev)
        watch.m_prev->m_next = watch.m_next;
    else
        m_watches = watch.m_next;
    if (watch.m_next) watch.m_next->m_prev = watch.m_prev;
    watch.m_file = nullptr;
    watch.m_next = watch.m_prev = nullptr;
}

void File::announce(uint32_t events, bool level_changed) {
    for (ReadinessWatch* watch = m_watches; watch;) {
        ReadinessWatch* next = watch->m_next;  // a watch may move itself, never others
        watch->readiness_changed(events);
        watch = next;
    }
    // An epoll instance an entry joined announces itself, so its sleepers wake either way.
    if (level_changed && !sched::readiness_queue().empty()) sched::notify_readiness();
}

lib::Result<int64_t> File::seek(int64_t, int) { return lib::Errno::SPipe; }

lib::Result<uint64_t> seek_target(uint64_t current, uint64_t size, int64_t offset, int whence) {
    int64_t base;
    switch (whence) {
        case 0:  // SEEK_SET
            base = 0;
            break;
        case 1:  // SEEK_CUR
            base = int64_t(current);
            break;
        case 2:  // SEEK_END
            base = int64_t(size);
            break;
        default:
            return lib::Errno::Inval;
    }
    int64_t target;
    if (__builtin_add_overflow(base, offset, &target) || target < 0) return lib::Errno::Inval;
    return uint64_t(target);
}

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
