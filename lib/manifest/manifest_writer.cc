// Serializes manifest records in the layout docs/manifest.md describes.
#include "lib/manifest/manifest_writer.h"

#include <cstring>

namespace lib::manifest {

namespace {

void put32(std::vector<std::byte>& out, uint32_t value) {
    for (int i = 0; i < 4; ++i) out.push_back(std::byte(value >> (8 * i)));
}

void put16(std::vector<std::byte>& out, uint16_t value) {
    out.push_back(std::byte(value));
    out.push_back(std::byte(value >> 8));
}

}  // namespace

void ManifestWriter::add_text(RecordType type, std::string_view text) {
    add_bytes(type, std::as_bytes(std::span<const char>(text.data(), text.size())));
}

void ManifestWriter::add_bytes(RecordType type, std::span<const std::byte> bytes) {
    put16(m_records, uint16_t(type));
    put16(m_records, 0);
    put32(m_records, uint32_t(bytes.size()));
    m_records.insert(m_records.end(), bytes.begin(), bytes.end());
    while (m_records.size() % kRecordAlign) m_records.push_back(std::byte{0});
    ++m_count;
}

std::vector<std::byte> ManifestWriter::finish() const {
    std::vector<std::byte> out;
    out.reserve(kHeaderSize + m_records.size());
    for (char c : kMagic) out.push_back(std::byte(c));
    put32(out, kVersion);
    put32(out, uint32_t(kHeaderSize + m_records.size()));
    put32(out, m_count);
    put32(out, 0);
    out.insert(out.end(), m_records.begin(), m_records.end());
    return out;
}

}  // namespace lib::manifest
