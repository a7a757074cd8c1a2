// TextSink and SnapshotFile: reads, pread and seeks within the text made at open.
#include "kernel/fs/snapshot_file.h"

#include <new>

#include "kernel/mm/heap.h"

namespace kernel::fs {

namespace {

constexpr size_t kFirstCapacity = 2000;  // one of the heap's small size classes

}  // namespace

// --- TextSink ---

TextSink::~TextSink() { mm::kfree(m_data); }

bool TextSink::grow(size_t needed) {
    if (m_failed) return false;
    size_t capacity = m_capacity ? m_capacity : kFirstCapacity;
    while (capacity < needed && capacity < kMaxSize) capacity *= 4;
    if (capacity > kMaxSize) capacity = kMaxSize;
    if (capacity <= m_capacity) return false;  // at the cap: the rest is cut off
    auto* data = static_cast<char*>(mm::kmalloc(capacity));
    if (!data) {
        m_failed = true;
        return false;
    }
    if (m_length) __builtin_memcpy(data, m_data, m_length);
    mm::kfree(m_data);
    m_data = data;
    m_capacity = capacity;
    return true;
}

void TextSink::write(std::string_view text) {
    if (text.size() > m_capacity - m_length) grow(m_length + text.size());
    size_t room = m_capacity - m_length;
    size_t n = text.size() < room ? text.size() : room;
    if (n) __builtin_memcpy(m_data + m_length, text.data(), n);
    m_length += n;
}

void TextSink::pad(size_t count, char c) {
    if (count > m_capacity - m_length) grow(m_length + count);
    size_t room = m_capacity - m_length;
    size_t n = count < room ? count : room;
    if (n) __builtin_memset(m_data + m_length, c, n);
    m_length += n;
}

char* TextSink::take() {
    char* data = m_data;
    m_data = nullptr;
    m_length = m_capacity = 0;
    return data;
}

// --- SnapshotFile ---

lib::Result<File*> SnapshotFile::create(Inode& node, int flags, std::string_view path,
                                        FileGenerator generate, uint64_t argument) {
    TextSink text;
    generate(text, argument);
    if (text.failed()) return lib::Errno::NoMem;
    node.retain();
    auto* file = new (std::nothrow) SnapshotFile(node, flags);
    if (!file) {
        node.release();
        return lib::Errno::NoMem;
    }
    if (auto named = file->m_path.set(path); named.is_error()) {
        file->release();
        return named.error();
    }
    file->m_length = text.size();
    file->m_text = text.take();
    return static_cast<File*>(file);
}

SnapshotFile::~SnapshotFile() {
    mm::kfree(m_text);
    m_node->release();
}

lib::Result<size_t> SnapshotFile::pread(std::span<char> buffer, uint64_t offset) {
    if (offset >= m_length) return size_t(0);
    size_t n = buffer.size() < m_length - offset ? buffer.size() : size_t(m_length - offset);
    __builtin_memcpy(buffer.data(), m_text + offset, n);
    return n;
}

lib::Result<size_t> SnapshotFile::read(std::span<char> buffer) {
    size_t got = TRY(pread(buffer, m_offset));
    m_offset += got;
    return got;
}

lib::Result<int64_t> SnapshotFile::seek(int64_t offset, int whence) {
    m_offset = TRY(seek_target(m_offset, m_length, offset, whence));
    return int64_t(m_offset);
}

}  // namespace kernel::fs
