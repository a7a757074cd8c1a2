// Generated files (/proc, /sys): the text is formatted once, when the file is opened, into a
// heap buffer (as Linux's seq_file does on the first read), so a program reading it in pieces
// and seeking in it sees one consistent snapshot.
#pragma once

#include "kernel/fs/file.h"
#include "kernel/fs/pseudo_fs.h"
#include "kernel/fs/vfs.h"

namespace kernel::fs {

// The text as it is formatted: a heap buffer that grows (by four) up to kMaxSize; what comes
// past that is cut off, so a generated file is bounded whatever the program did.
class TextSink final : public lib::FormatSink {
public:
    static constexpr size_t kMaxSize = 1u << 20;

    TextSink() = default;
    TextSink(const TextSink&) = delete;
    TextSink& operator=(const TextSink&) = delete;
    ~TextSink();

    void write(std::string_view text) override;
    // `count` copies of `c` (column padding).
    void pad(size_t count, char c = ' ');
    size_t size() const { return m_length; }
    // Memory ran out before kMaxSize: the text is incomplete.
    bool failed() const { return m_failed; }
    // The buffer (the caller kfree()s it) and its length; the sink is empty afterwards.
    char* take();

private:
    bool grow(size_t needed);

    char* m_data = nullptr;
    size_t m_length = 0;
    size_t m_capacity = 0;
    bool m_failed = false;
};

class SnapshotFile final : public File {
public:
    // Runs `generate` for `node` and opens the result. NoMem.
    static lib::Result<File*> create(Inode& node, int flags, std::string_view path,
                                     FileGenerator generate, uint64_t argument);
    ~SnapshotFile() override;

    lib::Result<size_t> read(std::span<char> buffer) override;
    lib::Result<size_t> write(std::span<const char>) override { return lib::Errno::BadF; }
    lib::Result<size_t> pread(std::span<char> buffer, uint64_t offset) override;
    lib::ErrorOr stat(sys::LinuxStat& out) override { return m_node->stat(out); }
    lib::Result<int64_t> seek(int64_t offset, int whence) override;
    int status_flags() const override { return m_flags; }
    void describe(lib::FormatSink& out) const override { out.write(m_path.view()); }

private:
    SnapshotFile(Inode& node, int flags) : m_node(&node), m_flags(flags) {}

    Inode* m_node;  // a reference
    int m_flags;
    OpenPath m_path;
    char* m_text = nullptr;
    size_t m_length = 0;
    uint64_t m_offset = 0;
};

}  // namespace kernel::fs
