// Lookup in the generated symbol table: an array of {address, name offset} sorted by address,
// followed by the names. Layout produced by kernel/tools/gen-ksyms.sh.
#include "kernel/debug/ksyms.h"

#include "kernel/arch/x86_64/kaslr.h"

#include "lib/base/format.h"

extern "C" {
struct KsymEntry {
    uint64_t address;
    uint64_t name_offset;
};
extern const uint64_t ksyms_count;
extern const KsymEntry ksyms_entries[];
extern const char ksyms_names[];
}

namespace kernel::debug {

std::string_view symbolize(uint64_t runtime_address) {
    static char buffer[160];
    uint64_t address = arch::to_link_address(runtime_address);  // the table holds link addresses
    size_t lo = 0, hi = ksyms_count;
    while (lo < hi) {  // first entry with address > target
        size_t mid = (lo + hi) / 2;
        if (ksyms_entries[mid].address <= address)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0) return "?";
    const KsymEntry& entry = ksyms_entries[lo - 1];
    return lib::format_buffer(buffer, sizeof(buffer), "{}+{:#x}", ksyms_names + entry.name_offset,
                              address - entry.address);
}

}  // namespace kernel::debug
