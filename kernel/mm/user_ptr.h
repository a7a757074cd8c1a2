// Pointers into the program's memory. They cannot be dereferenced: the only way through is
// copy_from_user / copy_to_user / copy_string_from_user, which check the range against the
// user half (without overflow), open SMAP, and turn a bad address into EFAULT.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/base/result.h"

namespace kernel::mm {

template <typename T>
class UserPtr {
public:
    UserPtr() = default;
    explicit UserPtr(uint64_t address) : m_address(address) {}
    uint64_t address() const { return m_address; }
    bool is_null() const { return m_address == 0; }
    // The i-th element, for arrays of T in user memory (overflow-checked at copy time).
    UserPtr offset(size_t index) const { return UserPtr(m_address + index * sizeof(T)); }

private:
    uint64_t m_address = 0;
};

template <typename T>
using UserIn = UserPtr<const T>;
template <typename T>
using UserOut = UserPtr<T>;

// True when [address, address + length) lies entirely in the user half.
bool user_range_ok(uint64_t address, uint64_t length);

lib::ErrorOr copy_from_user_bytes(void* dst, uint64_t src, size_t length);
lib::ErrorOr copy_to_user_bytes(uint64_t dst, const void* src, size_t length);
lib::ErrorOr clear_user_bytes(uint64_t dst, size_t length);

template <typename T>
lib::ErrorOr copy_from_user(T& out, UserIn<T> src) {
    return copy_from_user_bytes(&out, src.address(), sizeof(T));
}

template <typename T>
lib::ErrorOr copy_to_user(UserOut<T> dst, const T& value) {
    return copy_to_user_bytes(dst.address(), &value, sizeof(T));
}

// Copies `count` elements, checking count * sizeof(T) for overflow.
template <typename T>
lib::ErrorOr copy_array_from_user(T* out, UserIn<T> src, size_t count) {
    size_t bytes;
    if (__builtin_mul_overflow(count, sizeof(T), &bytes)) return lib::Errno::Fault;
    return copy_from_user_bytes(out, src.address(), bytes);
}

// Copies a NUL-terminated string of at most max_length bytes (plus the NUL) into buffer, which
// must hold max_length + 1 bytes. Returns the length; ENAMETOOLONG when longer.
lib::Result<size_t> copy_string_from_user(char* buffer, size_t max_length, UserIn<char> src);

}  // namespace kernel::mm
