// Read-only kernel views of pages that come from elsewhere (a file's page-cache pages),
// mapped on first touch: the loader parses an ELF in place through one without reading the
// parts of the file it never looks at (a debug build's symbols can be most of it).
#pragma once

#include <cstdint>
#include <span>

#include "lib/base/result.h"

namespace kernel::mm {

// Where a view's pages come from: page `index` -> a physical frame that stays valid for good.
class PageSource {
public:
    virtual lib::Result<uint64_t> frame(uint64_t index) = 0;

protected:
    ~PageSource() = default;
};

// A window of `size` bytes in the kernel-window region whose pages are mapped (read-only,
// never executable) from `source` when first read. `source` must live for good.
lib::Result<std::span<const std::byte>> make_lazy_view(PageSource& source, uint64_t size);

// The page-fault path's hook: maps the page of a lazy view holding `address`; false when the
// address is in no view or its source fails (the fault is then the kernel's bug or panic).
bool handle_view_fault(uint64_t address);

}  // namespace kernel::mm
