// Manifest parsing and validation (freestanding and hosted).
#include "lib/manifest/manifest.h"

#include "lib/base/checked.h"

namespace lib::manifest {

namespace {

uint16_t load16(const std::byte* p) {
    return uint16_t(uint16_t(p[0]) | uint16_t(p[1]) << 8);
}

uint32_t load32(const std::byte* p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

bool known_type(uint16_t type) {
    return type >= uint16_t(RecordType::Program) && type <= uint16_t(RecordType::Option);
}

bool has_nul(std::span<const std::byte> bytes) {
    for (std::byte b : bytes)
        if (b == std::byte{0}) return true;
    return false;
}

}  // namespace

bool Manifest::Cursor::next(Record& out) {
    if (m_rest.size() < kRecordHeaderSize) return false;
    uint32_t length = load32(m_rest.data() + 4);
    out.type = RecordType(load16(m_rest.data()));
    out.payload = m_rest.subspan(kRecordHeaderSize, length);
    size_t advance = *align_up(kRecordHeaderSize + uint64_t(length), kRecordAlign);
    m_rest = advance >= m_rest.size() ? std::span<const std::byte>{} : m_rest.subspan(advance);
    return true;
}

Result<Manifest> Manifest::parse(std::span<const std::byte> bytes) {
    if (bytes.size() < kHeaderSize) return Errno::Inval;
    for (size_t i = 0; i < sizeof(kMagic); ++i)
        if (bytes[i] != std::byte(kMagic[i])) return Errno::Inval;
    if (load32(bytes.data() + 8) != kVersion) return Errno::Inval;
    uint32_t total = load32(bytes.data() + 12);
    uint32_t declared_records = load32(bytes.data() + 16);
    if (total < kHeaderSize || total > bytes.size()) return Errno::Inval;
    if (declared_records > kMaxRecords) return Errno::Inval;

    Manifest manifest;
    manifest.m_records = bytes.subspan(kHeaderSize, total - kHeaderSize);
    size_t offset = 0;
    size_t programs = 0;
    size_t images = 0;
    auto region = manifest.m_records;
    while (offset < region.size()) {
        if (!range_within(offset, kRecordHeaderSize, region.size())) return Errno::Inval;
        uint16_t type = load16(region.data() + offset);
        uint16_t flags = load16(region.data() + offset + 2);
        uint32_t length = load32(region.data() + offset + 4);
        if (!known_type(type) || flags != 0) return Errno::Inval;
        if (!range_within(offset + kRecordHeaderSize, length, region.size())) return Errno::Inval;
        auto payload = region.subspan(offset + kRecordHeaderSize, length);
        if (is_text(RecordType(type)) && has_nul(payload)) return Errno::Inval;
        if (RecordType(type) == RecordType::Program) {
            if (length == 0) return Errno::Inval;
            manifest.m_program = {reinterpret_cast<const char*>(payload.data()), payload.size()};
            ++programs;
        } else if (RecordType(type) == RecordType::ProgramImage) {
            if (++images > 1) return Errno::Inval;  // counted: an empty image is still one
            manifest.m_program_image = payload;
        }
        ++manifest.m_record_count;
        // Padding to the next record may run past the end only for the last record.
        auto next = align_up(offset + kRecordHeaderSize + uint64_t(length), kRecordAlign);
        offset = *next < region.size() ? size_t(*next) : region.size();
    }
    if (manifest.m_record_count != declared_records || programs != 1) return Errno::Inval;
    return manifest;
}

size_t Manifest::count(RecordType type) const {
    size_t n = 0;
    for_each(type, [&](const Record&) { ++n; });
    return n;
}

bool Manifest::has_debug_flag(std::string_view name) const {
    bool found = false;
    for_each(RecordType::DebugFlag, [&](const Record& r) { found |= r.text() == name; });
    return found;
}

bool Manifest::option(std::string_view key, std::string_view& value) const {
    bool found = false;
    for_each(RecordType::Option, [&](const Record& r) {
        std::string_view text = r.text();
        if (text.size() > key.size() && text.substr(0, key.size()) == key &&
            text[key.size()] == '=') {
            value = text.substr(key.size() + 1);
            found = true;
        }
    });
    return found;
}

}  // namespace lib::manifest
