// PathTrace: the path a lookup walks to, kept as it goes.
#include "kernel/fs/vfs.h"
#include "kernel/mm/heap.h"

namespace kernel::fs {

PathTrace::PathTrace() : m_buffer(static_cast<char*>(mm::kmalloc(kPathMax))) {}

PathTrace::~PathTrace() { mm::kfree(m_buffer); }

void PathTrace::start(std::string_view directory) {
    m_length = 0;
    m_overflow = false;
    if (!m_buffer || directory.size() <= 1) return;
    if (directory.size() >= kPathMax) {
        m_overflow = true;
        return;
    }
    __builtin_memcpy(m_buffer, directory.data(), directory.size());
    m_length = directory.size();
}

void PathTrace::enter(std::string_view name) {
    if (!m_buffer || name.empty() || name == ".") return;
    if (name == "..") return leave();
    if (m_length + 1 + name.size() >= kPathMax) {
        m_overflow = true;
        return;
    }
    m_buffer[m_length++] = '/';
    __builtin_memcpy(m_buffer + m_length, name.data(), name.size());
    m_length += name.size();
}

void PathTrace::leave() {
    while (m_length > 0 && m_buffer[m_length - 1] != '/') --m_length;
    if (m_length > 0) --m_length;  // the slash
}

}  // namespace kernel::fs
