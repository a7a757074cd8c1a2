// Builds a manifest on the host (phx). Hosted only: uses std::vector.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "lib/manifest/manifest.h"

namespace lib::manifest {

class ManifestWriter {
public:
    void add_text(RecordType type, std::string_view text);
    void add_bytes(RecordType type, std::span<const std::byte> bytes);
    // The complete manifest: header plus every record added so far, in order.
    std::vector<std::byte> finish() const;

private:
    std::vector<std::byte> m_records;
    uint32_t m_count = 0;
};

}  // namespace lib::manifest
