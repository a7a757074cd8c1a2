// Checked copies between kernel and user memory.
#include "kernel/mm/user_ptr.h"

#include "kernel/arch/x86_64/layout.h"
#include "kernel/arch/x86_64/user_copy.h"

namespace kernel::mm {

bool user_range_ok(uint64_t address, uint64_t length) {
    uint64_t end;
    if (__builtin_add_overflow(address, length, &end)) return false;
    return end <= arch::kUserEnd;
}

lib::ErrorOr copy_from_user_bytes(void* dst, uint64_t src, size_t length) {
    if (!user_range_ok(src, length)) return lib::Errno::Fault;
    arch::UserAccessWindow window;
    if (user_copy_raw(dst, reinterpret_cast<const void*>(src), length) != 0)
        return lib::Errno::Fault;
    return {};
}

lib::ErrorOr copy_to_user_bytes(uint64_t dst, const void* src, size_t length) {
    if (!user_range_ok(dst, length)) return lib::Errno::Fault;
    arch::UserAccessWindow window;
    if (user_copy_raw(reinterpret_cast<void*>(dst), src, length) != 0) return lib::Errno::Fault;
    return {};
}

lib::ErrorOr clear_user_bytes(uint64_t dst, size_t length) {
    if (!user_range_ok(dst, length)) return lib::Errno::Fault;
    arch::UserAccessWindow window;
    if (user_fill_raw(reinterpret_cast<void*>(dst), 0, length) != 0) return lib::Errno::Fault;
    return {};
}

lib::Result<size_t> copy_string_from_user(char* buffer, size_t max_length, UserIn<char> src) {
    // Copy page by page so we never touch the page after the one holding the terminator.
    size_t copied = 0;
    uint64_t address = src.address();
    while (copied <= max_length) {
        uint64_t page_left = arch::kPageSize - (address + copied) % arch::kPageSize;
        size_t chunk = max_length + 1 - copied;
        if (chunk > page_left) chunk = page_left;
        TRY(copy_from_user_bytes(buffer + copied, address + copied, chunk));
        for (size_t i = 0; i < chunk; ++i)
            if (buffer[copied + i] == '\0') return copied + i;
        copied += chunk;
    }
    return lib::Errno::NameTooLong;
}

}  // namespace kernel::mm
