// The Phoenix manifest: what to run and how (program, args, env, debug flags, options), written
// by phx and read by the kernel. Format documented in docs/manifest.md. Every byte is
// validated by parse() before anything is handed out: the manifest comes from outside.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "lib/base/result.h"

namespace lib::manifest {

inline constexpr char kMagic[8] = {'P', 'H', 'X', 'M', 'A', 'N', 'I', '\0'};
inline constexpr uint32_t kVersion = 1;
inline constexpr size_t kHeaderSize = 24;
inline constexpr size_t kRecordHeaderSize = 8;
inline constexpr size_t kRecordAlign = 8;
// Upper bounds that keep a hostile manifest from costing the kernel unbounded work.
inline constexpr uint32_t kMaxRecords = 65536;

enum class RecordType : uint16_t {
    Program = 1,       // the program's path inside the VM (argv[0] default, AT_EXECFN, /proc/self/exe)
    Arg = 2,           // one argv entry after argv[0], in order
    Env = 3,           // one "KEY=VALUE" environment entry, in order
    DebugFlag = 4,     // one debug flag name (OPS Debugflags spelling, e.g. "trace")
    ProgramImage = 5,  // the program's ELF bytes, when it travels inside the manifest
    Option = 6,        // one "key=value" setting for the kernel
};

// Which record types hold text (no NUL bytes allowed) rather than raw bytes.
constexpr bool is_text(RecordType type) { return type != RecordType::ProgramImage; }

struct Record {
    RecordType type;
    std::span<const std::byte> payload;
    std::string_view text() const {
        return {reinterpret_cast<const char*>(payload.data()), payload.size()};
    }
};

class Manifest {
public:
    // Validates the whole manifest (magic, version, sizes, every record's bounds and type, text
    // records free of NUL, exactly one Program). The span must outlive the Manifest.
    static Result<Manifest> parse(std::span<const std::byte> bytes);

    size_t record_count() const { return m_record_count; }
    size_t count(RecordType type) const;

    // Calls fn(const Record&) for every record of the type, in order.
    template <typename Fn>
    void for_each(RecordType type, Fn&& fn) const {
        Cursor cursor(m_records);
        Record record;
        while (cursor.next(record))
            if (record.type == type) fn(record);
    }

    std::string_view program() const { return m_program; }
    // Empty when the program is not inside the manifest.
    std::span<const std::byte> program_image() const { return m_program_image; }
    bool has_debug_flag(std::string_view name) const;
    // The value of the last Option "key=value" with this key, or nullopt-like empty + false.
    bool option(std::string_view key, std::string_view& value) const;

private:
    // Walks records of an already validated region.
    class Cursor {
    public:
        explicit Cursor(std::span<const std::byte> records) : m_rest(records) {}
        bool next(Record& out);

    private:
        std::span<const std::byte> m_rest;
    };

    Manifest() = default;

    std::span<const std::byte> m_records;
    size_t m_record_count = 0;
    std::string_view m_program;
    std::span<const std::byte> m_program_image;
};

}  // namespace lib::manifest
